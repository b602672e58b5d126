// `imagent inspect` rebuilds runs from history alone: completed, failed and still running.
import { BackboneError, type Backbone, type ChatRequest, type EditRequest, type GenerateRequest } from '../../backbones/backbone';
import { SimBackbone } from '../../backbones/sim';
import { inspectWorkflow } from '../../cli/inspect';
import { agentWorkflow, trajectoryQuery } from '../../workflows';
import { startTestCluster, uniqueName, type TestCluster } from '../helpers/cluster';
import { answer, ScriptedController } from '../helpers/scripted';

/** Generation waits at its second call until the test releases it. */
class GatedGeneration implements Backbone {
  readonly capabilities;
  private calls = 0;
  private release!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));
  constructor(private readonly inner: Backbone) {
    this.capabilities = inner.capabilities;
  }
  chat(request: ChatRequest) {
    return this.inner.chat(request);
  }
  async generate(request: GenerateRequest) {
    this.calls += 1;
    if (this.calls === 2) await this.released;
    return this.inner.generate(request);
  }
  edit(request: EditRequest) {
    return this.inner.edit(request);
  }
  open(): void {
    this.release();
  }
}

class RefusesEverything implements Backbone {
  readonly capabilities;
  constructor(private readonly inner: Backbone) {
    this.capabilities = inner.capabilities;
  }
  chat(request: ChatRequest) {
    return this.inner.chat(request);
  }
  generate(_request: GenerateRequest): Promise<Buffer> {
    return Promise.reject(new BackboneError('BackboneContentRefused', 'The model refused to draw this prompt.'));
  }
  edit(request: EditRequest) {
    return this.inner.edit(request);
  }
}

describe('inspect', () => {
  let cluster: TestCluster;
  afterEach(async () => {
    await cluster?.stop();
  });

  it('shows the finished steps and the call in flight of a running workflow', async () => {
    const gated = new GatedGeneration(new ScriptedController([answer('generate_basic'), answer('generate_basic'), answer('STOP')], new SimBackbone()));
    cluster = await startTestCluster({ backbone: gated });
    const workflowId = uniqueName('running');
    const handle = await cluster.client.workflow.start(agentWorkflow, {
      taskQueue: cluster.taskQueue,
      workflowId,
      args: [{ prompt: 'a photo of a cat', options: { tMax: 3, pool: cluster.pool } }],
    });
    // Wait until the first step is recorded; the second step's generation is then held.
    for (let i = 0; i < 100 && (await handle.query(trajectoryQuery)).length < 1; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));

    const running = await inspectWorkflow(cluster.client, workflowId);
    expect(running.status).toBe('running');
    expect(running.trajectory.map((o) => o.action)).toEqual(['naive_generation']);
    expect(running.activities.filter((a) => a.state === 'scheduled' || a.state === 'started').map((a) => a.activityId)).toEqual(['2/generate']);
    expect(running.finalImage).toEqual(running.trajectory[0].imageAfter);

    gated.open();
    const result = await handle.result();
    const finished = await inspectWorkflow(cluster.client, workflowId);
    expect(finished.status).toBe('completed');
    expect(finished.trajectory).toEqual(result.trajectory);
  });

  it('rebuilds a failed workflow with its failure and the steps that failed', async () => {
    cluster = await startTestCluster({ backbone: new RefusesEverything(new ScriptedController([answer('generate_basic'), answer('generate_with_think')])) });
    const workflowId = uniqueName('failed');
    await expect(
      cluster.client.workflow.execute(agentWorkflow, {
        taskQueue: cluster.taskQueue,
        workflowId,
        args: [{ prompt: 'a photo of a cat', options: { tMax: 2, pool: cluster.pool } }],
      }),
    ).rejects.toThrow();
    const inspection = await inspectWorkflow(cluster.client, workflowId);
    expect(inspection.status).toBe('failed');
    expect(inspection.failure).toMatch(/NoImageProduced: No image was produced in 2 steps/);
    expect(inspection.trajectory.map((o) => [o.action, o.error?.type])).toEqual([
      ['naive_generation', 'BackboneContentRefused'],
      ['prompt_enhancement', 'BackboneContentRefused'],
    ]);
    // Permanent failures are not retried: one attempt each.
    const generations = inspection.activities.filter((a) => a.activityType === 'generate');
    expect(generations.map((a) => [a.state, a.failedAttempts])).toEqual([
      ['failed', 1],
      ['failed', 1],
    ]);
    expect(inspection.finalImage).toBeUndefined();
  });
});
