// Activity factories: dependencies are injected, never global, so tests and workers choose them.
export { createModelActivities, type ModelActivities, type ModelDeps, type BackboneRegistry } from './model';
export { createControlActivities, type ControlActivities, type ControlDeps } from './control';
export { createBatchActivities, type BatchActivities, type BatchDeps } from './batch';
