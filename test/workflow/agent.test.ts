// The agent loop on a real Temporal dev server with real workers and the sim backbone.
import { createHash } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { BackboneError, type Backbone, type ChatRequest, type EditRequest, type GenerateRequest } from '../../backbones/backbone';
import { scoreEdit, SimBackbone } from '../../backbones/sim';
import { ACTIONS, type AgentResult } from '../../workflows/types';
import { startTestCluster, uniqueName, type TestCluster } from '../helpers/cluster';
import { answer, ScriptedController } from '../helpers/scripted';

const EventType = temporal.api.enums.v1.EventType;

async function expectImagesInStore(cluster: TestCluster, result: AgentResult): Promise<void> {
  for (const o of result.trajectory) {
    for (const ref of [o.imageAfter, ...(o.candidates ?? []).map((c) => c.image)]) {
      if (!ref) continue;
      const bytes = await cluster.store.getImage(ref);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
      expect(bytes.length).toBe(ref.bytes);
    }
  }
}

describe('agentWorkflow', () => {
  let cluster: TestCluster;
  afterEach(async () => {
    await cluster?.stop();
  });

  it('completes a text-to-image run with a trajectory of valid steps', async () => {
    cluster = await startTestCluster();
    const result = await cluster.runAgent({ prompt: 'two red apples to the left of a blue cup', options: { tMax: 5 } });
    expect(result.mode).toBe('generation');
    expect(result.backbone.simulated).toBe(true);
    expect(result.trajectory.length).toBeGreaterThanOrEqual(1);
    expect(result.trajectory.length).toBeLessThanOrEqual(5);
    result.trajectory.forEach((o, i) => {
      expect(o.step).toBe(i + 1);
      expect(ACTIONS).toContain(o.action);
      expect(o.decision.parse).toEqual({ found: true, unique: true, valid: true });
      if (o.action !== 'stop') expect(o.imageAfter).toBeDefined();
    });
    // The first step has no image, so it must be a generating action.
    expect(['naive_generation', 'prompt_enhancement', 'best_of_n']).toContain(result.trajectory[0].action);
    expect(result.finalImage).toEqual(result.trajectory.filter((o) => o.action !== 'stop').at(-1)?.imageAfter);
    expect(result.metrics.steps).toBe(result.trajectory.filter((o) => o.action !== 'stop').length);
    // Every step draws or edits at least one image (detail refinement edits instead of drawing).
    expect(result.metrics.calls.generate + result.metrics.calls.edit).toBeGreaterThanOrEqual(result.metrics.steps);
    expect([result.metrics.psr, result.metrics.aur, result.metrics.avr]).toEqual([1, 1, 1]);
    await expectImagesInStore(cluster, result);
  });

  it('edits an input image: naive editing applies the instruction to the source', async () => {
    const sim = new SimBackbone();
    cluster = await startTestCluster({ backbone: new ScriptedController([answer('generate_basic'), answer('STOP')], sim) });
    const source = await cluster.store.putImage(await sim.generate({ prompt: 'a red cup', seed: 7, width: 512, height: 512 }));
    // A fixed seed: the sim's edits succeed with a documented probability, and this seed draws a success.
    const result = await cluster.runAgent({ prompt: 'make the cup blue', image: source, options: { tMax: 3, seed: 'edit-test' } });
    expect(result.mode).toBe('editing');
    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'stop']);
    expect(result.trajectory[0].imageBefore).toEqual(source);
    expect(result.metrics.calls.edit).toBe(1);
    expect(result.metrics.calls.generate).toBe(0);
    expect(result.finalImage.sha256).not.toBe(source.sha256);
    const check = scoreEdit(await cluster.store.getImage(source), 'make the cup blue', await cluster.store.getImage(result.finalImage));
    expect(check.correct).toBe(true);
    await expectImagesInStore(cluster, result);
  });

  it('stops before T_max when the controller answers STOP', async () => {
    const script = new ScriptedController([answer('generate_basic'), answer('STOP', 'everything is there')]);
    cluster = await startTestCluster({ backbone: script });
    const result = await cluster.runAgent({ prompt: 'a photo of a dog', options: { tMax: 5 } });
    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'stop']);
    expect(result.metrics).toMatchObject({ steps: 1, stoppedBy: 'controller', controllerCalls: 2 });
    expect(result.trajectory[1].decision.reasoning).toBe('everything is there');
    expect(result.finalImage).toEqual(result.trajectory[0].imageAfter);
  });

  it('ends at T_max when the controller never stops', async () => {
    cluster = await startTestCluster({ backbone: new ScriptedController(Array.from({ length: 3 }, () => answer('generate_basic'))) });
    const result = await cluster.runAgent({ prompt: 'a photo of a dog', options: { tMax: 3 } });
    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'naive_generation', 'naive_generation']);
    expect(result.metrics).toMatchObject({ steps: 3, stoppedBy: 't_max', controllerCalls: 3 });
    // Each step draws with its own seed, so the images differ.
    expect(new Set(result.trajectory.map((o) => o.imageAfter?.sha256)).size).toBe(3);
  });

  it('falls back to naive generation on missing, multiple and unknown actions and counts them in PSR / AUR / AVR', async () => {
    const script = new ScriptedController([
      'Reasoning: I would draw it plainly.\nAnswer: generate_basic',
      'Reasoning: either works.\nAnswer: \\boxed{generate_with_think} or \\boxed{STOP}',
      answer('paint_it_purple'),
      answer('STOP'),
    ]);
    cluster = await startTestCluster({ backbone: script });
    const result = await cluster.runAgent({ prompt: 'a photo of a cat', options: { tMax: 5 } });
    const decisions = result.trajectory.map((o) => o.decision);
    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'naive_generation', 'naive_generation', 'stop']);
    expect(decisions.map((d) => d.parse)).toEqual([
      { found: false, unique: false, valid: false },
      { found: true, unique: false, valid: false },
      { found: true, unique: true, valid: false },
      { found: true, unique: true, valid: true },
    ]);
    expect(decisions.slice(0, 3).every((d) => d.fallback?.includes('ran naive_generation instead'))).toBe(true);
    expect(decisions[3].fallback).toBeUndefined();
    expect(result.metrics).toMatchObject({ psr: 3 / 4, aur: 2 / 4, avr: 1 / 4, fallbacks: 3 });
  });

  it('treats actions impossible in context as invalid: STOP or revision with no image, refinement on a backbone that cannot edit', async () => {
    const cannotEdit = new SimBackbone({ canEdit: false });
    const script = new ScriptedController(
      [answer('STOP'), answer('generate_with_self_assess'), answer('generate_with_self_edit'), answer('STOP')],
      cannotEdit,
    );
    cluster = await startTestCluster({ backbone: script });
    const result = await cluster.runAgent({ prompt: 'a photo of a cat', options: { tMax: 5 } });
    expect(result.trajectory.map((o) => o.action)).toEqual(['naive_generation', 'prompt_revision', 'naive_generation', 'stop']);
    expect(result.trajectory.map((o) => o.decision.allowed)).toEqual([false, true, false, true]);
    expect(result.metrics.avr).toBe(2 / 4);
    expect(result.metrics.psr).toBe(1);
    // The controller is never offered an action the backbone cannot perform.
    expect(script.prompts.every((p) => !p.includes('generate_with_self_edit:'))).toBe(true);
    expect(result.backbone.canEdit).toBe(false);
  });

  it('runs Best-of-N as N concurrent generations, then N concurrent scores, and keeps the argmax', async () => {
    cluster = await startTestCluster({ backbone: new ScriptedController([answer('best_of_n_selection'), answer('STOP')]) });
    const workflowId = uniqueName('bon');
    const result = await cluster.runAgent({ prompt: 'three yellow bananas above a green bowl', options: { n: 4, tMax: 3 } }, workflowId);
    const step = result.trajectory[0];
    expect(step.action).toBe('best_of_n');
    expect(step.candidates).toHaveLength(4);
    const scores = step.candidates!.map((c) => c.score ?? -1);
    expect(step.chosen).toBe(scores.indexOf(Math.max(...scores)));
    expect(step.imageAfter).toEqual(step.candidates![step.chosen!].image);
    expect(step.score).toBe(step.candidates![step.chosen!].score);
    expect(new Set(step.candidates!.map((c) => c.seed)).size).toBe(4);

    const history = await cluster.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = new Map<string, string>();
    const order: string[] = [];
    for (const e of events) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) {
        scheduled.set(String(e.eventId), s.activityType?.name ?? '');
        order.push(`scheduled:${s.activityType?.name}`);
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        order.push(`completed:${scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))}`);
      }
    }
    const firstGenerateDone = order.indexOf('completed:generate');
    expect(order.slice(0, firstGenerateDone).filter((x) => x === 'scheduled:generate')).toHaveLength(4);
    const firstScoreDone = order.indexOf('completed:score');
    expect(order.slice(firstGenerateDone, firstScoreDone).filter((x) => x === 'scheduled:score')).toHaveLength(4);
  });

  it('records a permanent backbone failure as an observation and goes on with the next step', async () => {
    class RefusesFirstGeneration implements Backbone {
      readonly capabilities;
      private refused = 0;
      constructor(private readonly inner: Backbone) {
        this.capabilities = inner.capabilities;
      }
      chat(request: ChatRequest) {
        return this.inner.chat(request);
      }
      async generate(request: GenerateRequest) {
        if (this.refused === 0) {
          this.refused += 1;
          throw new BackboneError('BackboneContentRefused', 'The model refused to draw this prompt.');
        }
        return this.inner.generate(request);
      }
      edit(request: EditRequest) {
        return this.inner.edit(request);
      }
    }
    const backbone = new RefusesFirstGeneration(new ScriptedController([answer('generate_basic'), answer('generate_basic'), answer('STOP')]));
    cluster = await startTestCluster({ backbone });
    const result = await cluster.runAgent({ prompt: 'a photo of a cat', options: { tMax: 4 } });
    expect(result.trajectory[0].error).toEqual({ type: 'BackboneContentRefused', message: 'The model refused to draw this prompt.' });
    expect(result.trajectory[0].imageAfter).toBeUndefined();
    expect(result.trajectory[1].action).toBe('naive_generation');
    expect(result.trajectory[1].imageAfter).toBeDefined();
    expect(result.trajectory[2].action).toBe('stop');
  });

  it('fails with a clear message when the input is invalid, without retrying', async () => {
    cluster = await startTestCluster();
    const run = cluster.runAgent({ prompt: '   ', options: { tMax: 0 } });
    await expect(run).rejects.toBeInstanceOf(WorkflowFailedError);
    await expect(run).rejects.toMatchObject({ cause: { type: 'InvalidInput' } });
    const err = (await run.catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err.cause?.message).toMatch(/prompt: prompt must not be empty/);
    expect(err.cause?.message).toMatch(/options\.tMax: tMax must be at least 1/);
  });
});
