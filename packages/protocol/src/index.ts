export * from './limits.js';
export * from './errors.js';
export * from './models.js';
export * from './rest.js';
export * from './events.js';
export * from './frames.js';
export * from './token.js';
