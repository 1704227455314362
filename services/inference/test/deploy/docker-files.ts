/**
 * What the Docker engine would see of this repository, computed without one: the Dockerfiles parsed
 * by dockerfile-ast (the parser of the Docker language server), the build context as `.dockerignore`
 * leaves it (@balena/dockerignore implements Docker's matching rules), and the files each image's
 * final stage ends up with. The deploy tests assert on these instead of on the text of the files.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ignore from '@balena/dockerignore';
import {
  DockerfileParser,
  type Copy,
  type Dockerfile,
  type Env,
  type From,
  type Instruction,
  type JSONInstruction,
} from 'dockerfile-ast';
import { REPO_ROOT } from '../helpers/test-models';

export const DOCKER_DIR = path.join(REPO_ROOT, 'docker');

export interface Stage {
  from: From;
  /** The `AS name` of the stage, if any. */
  name: string | null;
  /** The base image with build-argument defaults substituted, e.g. `node:20-bookworm-slim`. */
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  file: string;
  text: string;
  ast: Dockerfile;
  stages: Stage[];
  /** Build arguments declared anywhere, with their defaults ('' when none). */
  args: Map<string, string>;
}

/** Replaces `${NAME}` / `$NAME` with the default of a build argument declared before the first FROM. */
function substitute(value: string, globals: Map<string, string>): string {
  return value.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string, bare: string) => globals.get(braced ?? bare) ?? whole,
  );
}

/**
 * Parses docker/<name> into stages.
 *
 * @example parseDockerfile('service.Dockerfile').stages.at(-1)?.image // 'node:20-bookworm-slim'
 */
export function parseDockerfile(name: string): ParsedDockerfile {
  const file = path.join(DOCKER_DIR, name);
  const text = readFileSync(file, 'utf8');
  const ast = DockerfileParser.parse(text);
  const globals = new Map(
    ast
      .getInitialARGs()
      .map((arg) => [arg.getProperty()?.getName() ?? '', arg.getProperty()?.getValue() ?? '']),
  );
  const args = new Map(
    ast.getARGs().map((arg) => [arg.getProperty()?.getName() ?? '', arg.getProperty()?.getValue() ?? '']),
  );
  const stages: Stage[] = [];
  for (const instruction of ast.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      stages.push({
        from,
        name: from.getBuildStage(),
        image: substitute(from.getImage() ?? '', globals),
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { file, text, ast, stages, args: new Map([...globals, ...args]) };
}

/** The instructions of a stage with one keyword, in order. */
export function instructions<T extends Instruction = Instruction>(stage: Stage, keyword: string): T[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword) as T[];
}

/** The exec-form (JSON array) arguments of CMD/ENTRYPOINT/VOLUME, or null for the shell form. */
export function execForm(instruction: Instruction): string[] | null {
  const strings = (instruction as JSONInstruction).getJSONStrings?.() ?? [];
  return strings.length > 0 ? strings.map((s) => s.getJSONValue()) : null;
}

/** The stage that becomes the image. */
export function finalStage(dockerfile: ParsedDockerfile): Stage {
  return dockerfile.stages[dockerfile.stages.length - 1];
}

/** The environment a stage's ENV instructions give its processes. */
export function imageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of instructions<Env>(stage, 'ENV')) {
    for (const p of instruction.getProperties()) env[p.getName()] = p.getValue() ?? '';
  }
  return env;
}

/** Every argument of an instruction joined as written, e.g. a RUN's shell command. */
export function argumentsText(instruction: Instruction): string {
  return instruction
    .getArguments()
    .map((a) => a.getValue())
    .join(' ');
}

/** Files git knows here (tracked, or new and not ignored): what a checkout sends as build context. */
export function repositoryFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
  })
    .toString()
    .split('\0')
    .filter((f) => f.length > 0);
}

/** The build context: repository files that `.dockerignore` lets through. */
export function buildContext(files: readonly string[] = repositoryFiles()): Set<string> {
  const rules = ignore().add(readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8'));
  return new Set(rules.filter([...files]));
}

/** The context files a COPY source (file or folder, as written) stands for. */
export function filesOfSource(source: string, context: ReadonlySet<string>): string[] {
  const clean = path.posix.normalize(source).replace(/^\.\/|\/$/g, '');
  if (clean === '.') return [...context];
  if (context.has(clean)) return [clean];
  return [...context].filter((f) => f.startsWith(`${clean}/`));
}

/**
 * Paths (relative to the repository root, as the images mirror it under /app) that the final stage
 * COPYs from the build context, mapped to their absolute place in the image.
 *
 * @example imageFiles(parseDockerfile('service.Dockerfile'), buildContext()).get('openapi.yaml') // '/app/openapi.yaml'
 */
export function imageFiles(dockerfile: ParsedDockerfile, context: ReadonlySet<string>): Map<string, string> {
  const stage = finalStage(dockerfile);
  const files = new Map<string, string>();
  let workdir = '/';
  for (const instruction of stage.instructions) {
    if (instruction.getKeyword() === 'WORKDIR') {
      workdir = path.posix.resolve(workdir, argumentsText(instruction));
    }
    if (instruction.getKeyword() !== 'COPY' || (instruction as Copy).getFromFlag()) continue;
    const args = instruction.getArguments().map((a) => a.getValue());
    const destination = path.posix.resolve(workdir, args[args.length - 1]);
    for (const source of args.slice(0, -1)) {
      const clean = path.posix.normalize(source).replace(/\/$/, '');
      for (const file of filesOfSource(source, context)) {
        const isFolder = file !== clean;
        const target = isFolder
          ? path.posix.join(destination, path.posix.relative(clean, file))
          : args[args.length - 1].endsWith('/')
            ? path.posix.join(destination, path.posix.basename(file))
            : destination;
        files.set(file, target);
      }
    }
  }
  return files;
}
