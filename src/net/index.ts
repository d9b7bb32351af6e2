export * from './connect.js';
export * from './listen.js';
export * from './proxy-protocol.js';
export * from './server-tls.js';
export * from './session-cache.js';
export * from './tls-connect.js';
