export * from './hello.js';
export { type ProbeFailure, ProbeSession } from './probe.js';
export * from './scan.js';
export * from './server-hello.js';
export * from './suites.js';
