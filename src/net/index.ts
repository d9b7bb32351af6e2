export * from './connect.js';
export * from './session-cache.js';
export * from './tls-connect.js';
