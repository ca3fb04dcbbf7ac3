// Dense bf16 tensor-core peak FLOP/s by GPU, from the vendors' datasheets (no sparsity), for MFU.
// A GPU not listed gets no MFU unless the user gives --peak-tflops.

const PEAKS: { match: RegExp; name: string; tflops: number }[] = [
  { match: /H200/i, name: "H200", tflops: 989 },
  { match: /H100.*(PCIe)/i, name: "H100 PCIe", tflops: 756 },
  { match: /H100.*NVL/i, name: "H100 NVL", tflops: 835 },
  { match: /H100/i, name: "H100 SXM", tflops: 989 },
  { match: /H800/i, name: "H800 SXM", tflops: 989 },
  { match: /A100/i, name: "A100", tflops: 312 },
  { match: /A800/i, name: "A800", tflops: 312 },
  { match: /L40S/i, name: "L40S", tflops: 362 },
  { match: /RTX A6000/i, name: "RTX A6000", tflops: 154.8 },
];

export interface GpuPeak {
  name: string;
  flops: number;
  source: string;
}

/** The peak for a torch device name ("NVIDIA H100 80GB HBM3"), or the user's override. */
export function gpuPeakFlops(deviceName: string, overrideTflops: number | null): GpuPeak | null {
  if (overrideTflops !== null) return { name: deviceName, flops: overrideTflops * 1e12, source: "--peak-tflops" };
  const hit = PEAKS.find((p) => p.match.test(deviceName));
  return hit ? { name: hit.name, flops: hit.tflops * 1e12, source: `${hit.name} datasheet, dense bf16` } : null;
}
