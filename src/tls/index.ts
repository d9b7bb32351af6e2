export * from './certificate-info.js';
export * from './certificates.js';
export * from './channel-binding.js';
export * from './client-options.js';
export { isIpLiteral } from './ip-literal.js';
export * from './modes.js';
export * from './pin.js';
export * from './verify.js';
