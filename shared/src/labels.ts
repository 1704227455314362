/**
 * The six expression classes in the one order every model, metric and response uses,
 * and the mapping from the many ways datasets spell them to that order.
 */
import { UnknownClassError } from './errors';

export const CLASSES = ['Angry', 'Fear', 'Happy', 'Neutral', 'Sad', 'Surprise'] as const;

export type ExpressionClass = (typeof CLASSES)[number];

export const NUM_CLASSES = CLASSES.length;

/** Folder or CSV names of classes we deliberately leave out (FER2013's Disgust has ~500 images). */
export const IGNORED_CLASS_NAMES: readonly string[] = ['disgust', 'disgusted', 'disgusting'];

/** Lower-case spellings seen in FER-style datasets, mapped to our class names. */
const ALIASES: Readonly<Record<string, ExpressionClass>> = {
  angry: 'Angry',
  anger: 'Angry',
  fear: 'Fear',
  fearful: 'Fear',
  scared: 'Fear',
  happy: 'Happy',
  happiness: 'Happy',
  neutral: 'Neutral',
  sad: 'Sad',
  sadness: 'Sad',
  surprise: 'Surprise',
  surprised: 'Surprise',
  suprise: 'Surprise', // the Kaggle "facial-recognition-dataset" spelling
};

/** FER2013 CSV `emotion` column: 0=Angry 1=Disgust 2=Fear 3=Happy 4=Sad 5=Surprise 6=Neutral. */
const FER2013_CODES: readonly (ExpressionClass | null)[] = [
  'Angry',
  null,
  'Fear',
  'Happy',
  'Sad',
  'Surprise',
  'Neutral',
];

/** What a dataset label resolves to: one of our classes, or a class we skip on purpose. */
export type ClassResolution =
  { kind: 'class'; name: ExpressionClass; index: number } | { kind: 'ignored'; name: string };

/**
 * Resolves a dataset folder name (any case, with the known misspellings) to a class.
 *
 * @example resolveClassName('Suprise') // { kind: 'class', name: 'Surprise', index: 5 }
 * @example resolveClassName('disgust') // { kind: 'ignored', name: 'disgust' }
 * @throws UnknownClassError for a name that is neither a class nor a known ignored class.
 */
export function resolveClassName(raw: string): ClassResolution {
  const key = raw.trim().toLowerCase();
  if (IGNORED_CLASS_NAMES.includes(key)) return { kind: 'ignored', name: raw };
  const name = ALIASES[key];
  if (name === undefined) throw new UnknownClassError(raw, CLASSES);
  return { kind: 'class', name, index: CLASSES.indexOf(name) };
}

/**
 * Resolves a FER2013 CSV emotion code (0..6) to a class; Disgust (1) is ignored.
 *
 * @example resolveFer2013Code(6) // { kind: 'class', name: 'Neutral', index: 3 }
 */
export function resolveFer2013Code(code: number): ClassResolution {
  if (!Number.isInteger(code) || code < 0 || code >= FER2013_CODES.length) {
    throw new UnknownClassError(String(code), CLASSES);
  }
  const name = FER2013_CODES[code];
  if (name === null || name === undefined) return { kind: 'ignored', name: 'Disgust' };
  return { kind: 'class', name, index: CLASSES.indexOf(name) };
}

/** Index of a class name in CLASSES; throws for anything else. */
export function classIndex(name: string): number {
  const index = (CLASSES as readonly string[]).indexOf(name);
  if (index < 0) throw new UnknownClassError(name, CLASSES);
  return index;
}
