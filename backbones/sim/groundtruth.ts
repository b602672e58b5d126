// Exact scoring of an image against the scene it should show, GenEval-style: every object in its
// count, every requested colour, every relation. Benchmarks use it as ground truth; the sim's own
// self-evaluation (chat.ts) uses it too, through imperfect eyes, so the two can be compared.
import { parseEdit, expectedEditScene } from './edit';
import { INVERSE_RELATION, type Constraint, relationText } from './language';
import type { Instance, Relation, Scene, SceneObject } from './scene';
import { relationHolds } from './vision';
import { nounFor } from './world';

export type FailureKind = 'missing' | 'count' | 'color' | 'relation' | 'extra';

export interface Failure {
  kind: FailureKind;
  /** The constraint of the intended scene that failed; absent for unexpected objects. */
  constraint?: Constraint;
  text: string;
}

export interface CheckResult {
  /** Every constraint holds. */
  correct: boolean;
  satisfied: number;
  total: number;
  failures: string[];
  details: Failure[];
}

export interface CheckOptions {
  /**
   * Objects the scene does not ask for count as a failure. Off for generation, as in GenEval
   * (an extra object in the background does not spoil "a photo of a cat"); on for editing, where
   * leaving everything else as it was is part of the task.
   */
  strict?: boolean;
}

/** A shown group: what vision saw of one class in one colour. */
interface ShownGroup {
  cls: string;
  color: string;
  count: number;
}

interface Shown {
  groups: ShownGroup[];
  holds(subject: readonly number[], object: readonly number[], relation: Relation): boolean;
}

function fromInstances(instances: readonly Instance[]): Shown {
  const groups: ShownGroup[] = [];
  const members: Instance[][] = [];
  for (const inst of instances) {
    let g = groups.findIndex((x) => x.cls === inst.cls && x.color === inst.color);
    if (g < 0) {
      g = groups.length;
      groups.push({ cls: inst.cls, color: inst.color, count: 0 });
      members.push([]);
    }
    groups[g].count++;
    members[g].push(inst);
  }
  return {
    groups,
    holds: (subject, object, relation) => relationHolds(subject.flatMap((g) => members[g]), object.flatMap((g) => members[g]), relation),
  };
}

/** A detected scene lists its relations; "next to" is either side-by-side direction. */
function fromScene(scene: Scene): Shown {
  const groups = scene.objects.map((o) => ({ cls: o.cls, color: o.color ?? '', count: o.count }));
  // "B right of A" says the same as "A left of B".
  const listed = (s: number, o: number, relation: Relation): boolean =>
    scene.relations.some(
      (r) =>
        (r.subject === s && r.object === o && r.relation === relation) ||
        (r.subject === o && r.object === s && r.relation === INVERSE_RELATION[relation]),
    );
  return {
    groups,
    holds: (subject, object, relation) =>
      subject.some((s) =>
        object.some((o) =>
          relation === 'next to' ? listed(s, o, 'left of') || listed(s, o, 'right of') || listed(s, o, 'next to') : listed(s, o, relation),
        ),
      ),
  };
}

function phrase(object: SceneObject, count = object.count): string {
  return `${object.color === undefined ? '' : `${object.color} `}${nounFor(object.cls, count)}`;
}

/**
 * Checks `shown` (the instances an image shows, or a detected scene) against `intended`.
 * Constraints: each object's exact count (a missing object fails it), each requested colour
 * (every shown object of that class in it, or of the group when the class appears in several
 * colours), each relation (on group centroids, as vision judges it), and with `strict` that
 * nothing else is shown.
 */
export function checkImage(intended: Scene, shown: readonly Instance[] | Scene, options: CheckOptions = {}): CheckResult {
  const view = Array.isArray(shown) ? fromInstances(shown as readonly Instance[]) : fromScene(shown as Scene);
  const details: Failure[] = [];
  let total = 0;
  const claimed = new Set<number>();

  // Which shown groups stand for each intended object.
  const matchedGroups = intended.objects.map((object, i) => {
    const ofClass = view.groups.map((_g, k) => k).filter((k) => view.groups[k].cls === object.cls);
    const shared = intended.objects.some((o, j) => j !== i && o.cls === object.cls);
    if (!shared) return ofClass;
    if (object.color !== undefined) return ofClass.filter((k) => view.groups[k].color === object.color);
    const taken = new Set(intended.objects.filter((o) => o.cls === object.cls && o.color !== undefined).map((o) => o.color));
    return ofClass.filter((k) => !taken.has(view.groups[k].color as SceneObject['color']));
  });

  intended.objects.forEach((object, i) => {
    const groups = matchedGroups[i];
    groups.forEach((k) => claimed.add(k));
    const found = groups.reduce((sum, k) => sum + view.groups[k].count, 0);
    total++;
    if (found === 0) {
      details.push({ kind: 'missing', constraint: { kind: 'count', object: i }, text: `missing: ${phrase(object)}` });
    } else if (found !== object.count) {
      details.push({
        kind: 'count',
        constraint: { kind: 'count', object: i },
        text: `count: ${found} ${nounFor(object.cls, found)} instead of ${object.count}`,
      });
    }
    if (object.color !== undefined) {
      total++;
      const colors = [...new Set(groups.map((k) => view.groups[k].color))];
      if (found > 0 && colors.some((c) => c !== object.color)) {
        details.push({
          kind: 'color',
          constraint: { kind: 'color', object: i },
          text: `colour: the ${nounFor(object.cls, found)} ${found === 1 ? 'is' : 'are'} ${colors.join(' and ')} instead of ${object.color}`,
        });
      } else if (found === 0) {
        details.push({ kind: 'color', constraint: { kind: 'color', object: i }, text: `colour: no ${object.color} ${nounFor(object.cls, 2)}` });
      }
    }
  });

  intended.relations.forEach((r, j) => {
    total++;
    const subject = matchedGroups[r.subject] ?? [];
    const object = matchedGroups[r.object] ?? [];
    if (!view.holds(subject, object, r.relation)) {
      const s = intended.objects[r.subject];
      const o = intended.objects[r.object];
      details.push({
        kind: 'relation',
        constraint: { kind: 'relation', relation: j },
        text: `position: the ${phrase(s)} ${s.count === 1 ? 'is' : 'are'} not ${relationText(r.relation)} the ${phrase(o)}`,
      });
    }
  });

  if (options.strict) {
    total++;
    const extras = view.groups.filter((_g, k) => !claimed.has(k));
    if (extras.length > 0) {
      const list = extras.map((g) => `${g.count} ${g.color} ${nounFor(g.cls, g.count)}`).join(', ');
      details.push({ kind: 'extra', text: `unexpected: ${list}` });
    }
  }

  const failedConstraints = new Set(details.map((d) => JSON.stringify(d.constraint ?? 'extra')));
  const satisfied = total - failedConstraints.size;
  return { correct: details.length === 0, satisfied, total, failures: details.map((d) => d.text), details };
}

/** The scene an edit should leave: the source's objects with the instruction applied. */
export function expectedAfterEdit(source: readonly Instance[], instruction: string): Scene {
  return expectedEditScene(source, parseEdit(instruction).ops);
}

/** Exact scoring of an edit: the result against the source with the instruction applied, nothing else changed. */
export function checkEdit(source: readonly Instance[], instruction: string, result: readonly Instance[] | Scene): CheckResult {
  return checkImage(expectedAfterEdit(source, instruction), result, { strict: true });
}
