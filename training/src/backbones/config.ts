/**
 * The backbone catalogue: torchvision's ResNet and DenseNet depths plus reduced configurations
 * for tests and quick runs. A configuration is plain data so that it can be stored in a model's
 * metadata and handed to the same builders that make the full-size networks.
 */

/** ResNet as torchvision builds it: BasicBlock (expansion 1) or Bottleneck (expansion 4). */
export interface ResNetConfig {
  family: 'resnet';
  name: string;
  block: 'basic' | 'bottleneck';
  /** Blocks per stage (layer1..layer4), e.g. [3, 8, 36, 3] for resnet152. */
  layers: readonly [number, number, number, number];
  /** Channels of the stem convolution (`conv1`); torchvision's `inplanes`, 64. */
  stemWidth: number;
  /** `planes` of each stage; torchvision uses [64, 128, 256, 512]. Block output = planes x expansion. */
  widths: readonly [number, number, number, number];
}

/** DenseNet-BC as torchvision builds it (compression 0.5, no dropout). */
export interface DenseNetConfig {
  family: 'densenet';
  name: string;
  growthRate: number;
  /** Dense layers per block, e.g. [6, 12, 36, 24] for densenet161. */
  blockConfig: readonly number[];
  /** Channels of the stem convolution (`features.conv0`). */
  initFeatures: number;
  /** Bottleneck width multiplier: the 1x1 convolution outputs bnSize x growthRate channels. */
  bnSize: number;
}

export type BackboneConfig = ResNetConfig | DenseNetConfig;

const TORCHVISION_RESNET_WIDTHS = [64, 128, 256, 512] as const;

function resnet(
  name: string,
  block: ResNetConfig['block'],
  layers: ResNetConfig['layers'],
  widths: ResNetConfig['widths'] = TORCHVISION_RESNET_WIDTHS,
  stemWidth = 64,
): ResNetConfig {
  return Object.freeze({ family: 'resnet', name, block, layers, stemWidth, widths });
}

function densenet(
  name: string,
  growthRate: number,
  blockConfig: readonly number[],
  initFeatures: number,
  bnSize = 4,
): DenseNetConfig {
  return Object.freeze({ family: 'densenet', name, growthRate, blockConfig, initFeatures, bnSize });
}

/**
 * Every named backbone. The torchvision names reproduce `torchvision.models.<name>` exactly;
 * the `-tiny`/`-small` ones keep the topology (stem, stages, downsampling, pooling) with few channels.
 */
export const BACKBONES: Readonly<Record<string, BackboneConfig>> = Object.freeze({
  resnet18: resnet('resnet18', 'basic', [2, 2, 2, 2]),
  resnet34: resnet('resnet34', 'basic', [3, 4, 6, 3]),
  resnet50: resnet('resnet50', 'bottleneck', [3, 4, 6, 3]),
  resnet101: resnet('resnet101', 'bottleneck', [3, 4, 23, 3]),
  resnet152: resnet('resnet152', 'bottleneck', [3, 8, 36, 3]),
  densenet121: densenet('densenet121', 32, [6, 12, 24, 16], 64),
  densenet161: densenet('densenet161', 48, [6, 12, 36, 24], 96),
  densenet169: densenet('densenet169', 32, [6, 12, 32, 32], 64),
  densenet201: densenet('densenet201', 32, [6, 12, 48, 32], 64),
  'resnet-tiny': resnet('resnet-tiny', 'basic', [1, 1, 1, 1], [4, 8, 16, 32], 4),
  'resnet-tiny-bottleneck': resnet('resnet-tiny-bottleneck', 'bottleneck', [1, 1, 1, 1], [4, 8, 8, 16], 8),
  'resnet-small': resnet('resnet-small', 'basic', [2, 2, 2, 2], [16, 32, 64, 128], 16),
  // Student candidates of about resnet-small's compute at a smaller input (npm run distill):
  // 1.5x its width (2.25x its multiply-adds per pixel), and resnet34's depth at its width.
  'resnet-small-wide': resnet('resnet-small-wide', 'basic', [2, 2, 2, 2], [24, 48, 96, 192], 24),
  'resnet-small-deep': resnet('resnet-small-deep', 'basic', [3, 4, 6, 3], [16, 32, 64, 128], 16),
  'densenet-tiny': densenet('densenet-tiny', 4, [2, 2, 2, 2], 8),
  'densenet-small': densenet('densenet-small', 12, [2, 3, 4, 3], 24),
});

/** The valid backbone names, for CLI help and error messages. */
export const BACKBONE_NAMES: readonly string[] = Object.freeze(Object.keys(BACKBONES));

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Structural problems of a configuration (empty when it is buildable).
 *
 * @example validateBackboneConfig({ ...BACKBONES.resnet18, layers: [2, 2, 2] } as ResNetConfig) // ['layers must be ...']
 */
export function validateBackboneConfig(config: BackboneConfig): string[] {
  const problems: string[] = [];
  const checkAll = (label: string, values: readonly unknown[], length?: number): void => {
    if (!Array.isArray(values) || (length !== undefined && values.length !== length) || values.length === 0) {
      problems.push(`${label} must be a list of ${length ?? 'one or more'} positive integers`);
    } else if (!values.every(isPositiveInteger)) {
      problems.push(`${label} must hold positive integers, got [${values.join(', ')}]`);
    }
  };
  if (typeof config.name !== 'string' || config.name.length === 0)
    problems.push('name must be a non-empty string');
  if (config.family === 'resnet') {
    if (config.block !== 'basic' && config.block !== 'bottleneck') {
      problems.push(`block must be 'basic' or 'bottleneck', got ${String(config.block)}`);
    }
    checkAll('layers', config.layers, 4);
    checkAll('widths', config.widths, 4);
    if (!isPositiveInteger(config.stemWidth)) problems.push('stemWidth must be a positive integer');
  } else if (config.family === 'densenet') {
    checkAll('blockConfig', config.blockConfig);
    for (const key of ['growthRate', 'initFeatures', 'bnSize'] as const) {
      if (!isPositiveInteger(config[key])) problems.push(`${key} must be a positive integer`);
    }
  } else {
    problems.push(
      `family must be 'resnet' or 'densenet', got ${String((config as { family?: unknown }).family)}`,
    );
  }
  return problems;
}

/**
 * A name from {@link BACKBONES} or a configuration object, checked.
 *
 * @example resolveBackbone('resnet152').layers // [3, 8, 36, 3]
 * @throws Error naming the valid backbones when the name is unknown, or the problems of a bad config.
 */
export function resolveBackbone(nameOrConfig: string | BackboneConfig): BackboneConfig {
  if (typeof nameOrConfig === 'string') {
    const config = Object.hasOwn(BACKBONES, nameOrConfig) ? BACKBONES[nameOrConfig] : undefined;
    if (!config) {
      throw new Error(`Unknown backbone "${nameOrConfig}"; valid names: ${BACKBONE_NAMES.join(', ')}`);
    }
    return config;
  }
  const problems = validateBackboneConfig(nameOrConfig);
  if (problems.length > 0) {
    throw new Error(`Invalid backbone configuration "${String(nameOrConfig.name)}": ${problems.join('; ')}`);
  }
  return nameOrConfig;
}
