export * from './errors.js';
export * from './secret.js';
export * from './timeout.js';
export * from './transcript.js';
