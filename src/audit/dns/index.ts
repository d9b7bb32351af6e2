export * from './check.js';
export * from './dane.js';
export * from './mta-sts.js';
export type { Parsed } from './tag-list.js';
export * from './tls-rpt.js';
