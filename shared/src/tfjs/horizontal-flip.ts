/**
 * A layer that mirrors NHWC images left to right. The ensemble job (`npm run ensemble -- --mirror`)
 * uses it to average each member over an image and its mirror image (test-time flip averaging)
 * inside the model itself, so every runtime that loads the model computes the same thing. It lives
 * here because whoever loads such a model (training, the service's TF.js runtime) must know the
 * class; importing `@fer/shared/tfjs` registers it.
 */
import * as tf from '@tensorflow/tfjs';

export class HorizontalFlip extends tf.layers.Layer {
  static readonly className = 'HorizontalFlip';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x.rank !== 4) throw new Error(`HorizontalFlip needs NHWC images, got rank ${x.rank}`);
    return tf.reverse(x, 2);
  }
}

tf.serialization.registerClass(HorizontalFlip);
