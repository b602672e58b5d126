// The workflow bundle's entry: every workflow a control worker runs.
export { agentWorkflow, trajectoryQuery, statusQuery } from './agent';
export { batchWorkflow, progressQuery, pauseSignal, resumeSignal, cancelSignal, setConcurrencyUpdate } from './batch';
