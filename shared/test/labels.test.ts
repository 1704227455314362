import { CLASSES, classIndex, resolveClassName, resolveFer2013Code, UnknownClassError } from '../src';

describe('labels', () => {
  it('keeps the six classes in the fixed order', () => {
    expect(CLASSES).toEqual(['Angry', 'Fear', 'Happy', 'Neutral', 'Sad', 'Surprise']);
  });

  it.each([
    ['Suprise', 'Surprise'],
    ['surprised', 'Surprise'],
    ['SURPRISE', 'Surprise'],
    ['fearful', 'Fear'],
    ['Fear', 'Fear'],
    ['angry', 'Angry'],
    ['happy', 'Happy'],
    ['Neutral', 'Neutral'],
    ['sad', 'Sad'],
  ])('maps the folder name %s to %s', (folder, expected) => {
    const resolved = resolveClassName(folder);
    expect(resolved).toEqual({ kind: 'class', name: expected, index: CLASSES.indexOf(expected as never) });
  });

  it('ignores Disgust instead of failing', () => {
    expect(resolveClassName('Disgust')).toEqual({ kind: 'ignored', name: 'Disgust' });
    expect(resolveClassName('disgusted').kind).toBe('ignored');
  });

  it('rejects an unknown folder with a message that names it and the known classes', () => {
    expect(() => resolveClassName('contempt')).toThrow(UnknownClassError);
    expect(() => resolveClassName('contempt')).toThrow(
      /"contempt".*Angry, Fear, Happy, Neutral, Sad, Surprise/,
    );
  });

  it('maps FER2013 CSV codes and drops Disgust', () => {
    expect([0, 2, 3, 4, 5, 6].map((c) => resolveFer2013Code(c))).toEqual(
      ['Angry', 'Fear', 'Happy', 'Sad', 'Surprise', 'Neutral'].map((name) => ({
        kind: 'class',
        name,
        index: CLASSES.indexOf(name as never),
      })),
    );
    expect(resolveFer2013Code(1).kind).toBe('ignored');
    expect(() => resolveFer2013Code(7)).toThrow(UnknownClassError);
    expect(() => resolveFer2013Code(1.5)).toThrow(UnknownClassError);
  });

  it('gives class indices and rejects aliases where an exact name is required', () => {
    expect(classIndex('Surprise')).toBe(5);
    expect(() => classIndex('Suprise')).toThrow(UnknownClassError);
  });
});
