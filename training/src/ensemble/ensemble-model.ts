/**
 * Builds the TF.js ensemble of loaded member models: the merged topology (merge-topology.ts)
 * instantiated, then every member layer's weights copied into its renamed twin.
 */
import * as tf from '@tensorflow/tfjs';
import '@fer/shared/tfjs'; // registers HorizontalFlip, which mirrored ensembles contain
import { memberLayerName, mergeTopologies, type MergeOptions } from './merge-topology';

/**
 * One LayersModel whose output is the mean of the members' outputs. The members are not changed
 * and stay the caller's to dispose.
 *
 * @example const ensemble = await buildEnsemble([a, b, c], 'resnet-small-x3', { mirror: true });
 * @throws EnsembleTopologyError when the members cannot be merged.
 */
export async function buildEnsemble(
  members: readonly tf.LayersModel[],
  name: string,
  options: MergeOptions = {},
): Promise<tf.LayersModel> {
  const topology = mergeTopologies(
    members.map((m) => m.toJSON(undefined, false)),
    name,
    options,
  );
  const ensemble = await tf.models.modelFromJSON(
    topology as unknown as Parameters<typeof tf.models.modelFromJSON>[0],
  );
  members.forEach((member, i) => {
    for (const layer of member.layers) {
      const weights = layer.getWeights();
      if (weights.length > 0) ensemble.getLayer(memberLayerName(i, layer.name)).setWeights(weights);
    }
  });
  return ensemble;
}
