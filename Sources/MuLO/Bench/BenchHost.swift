import CKernels
import Foundation

/// What every `mulo bench` measured on: the CPU, the kernel variant compiled in, the thread
/// count, and the baselines (sgemm rate, memory bandwidth) measured in the same process, so
/// that ratios mean the same on every machine.
public struct BenchHost: Codable, Sendable {
    public let cpu_model: String
    /// The widest vector ISA the CPU offers ("avx512", "avx2", "neon", "sse2", "generic").
    public let host_isa: String
    /// The variant the kernels were compiled for, and the -march that chose it.
    public let kernel_isa: String
    public let kernel_march: String
    /// OpenBLAS's kernel set (`BLAS.coreName`).
    public let blas_core: String
    public let threads: Int
    public let sgemm_gflops: Double
    /// Read+write bandwidth of a streaming update over arrays far larger than the caches.
    public let memory_gbs: Double

    public static func measure(threads: Int) -> BenchHost {
        let cpu = HostCPU.current
        return BenchHost(cpu_model: cpu.model, host_isa: cpu.bestISA, kernel_isa: KernelVariant.isa,
                         kernel_march: KernelVariant.march, blas_core: BLAS.coreName, threads: threads,
                         sgemm_gflops: Timing.sgemmGFLOPs(), memory_gbs: Timing.memoryGBs())
    }

    /// The lines every bench prints first.
    public var description: String {
        var s = "CPU: \(cpu_model) (\(host_isa)); kernels: \(kernel_isa) (-march=\(kernel_march)); OpenBLAS core \(blas_core); \(threads) threads\n"
        s += String(format: "sgemm 2048³: %.1f GFLOP/s; memory: %.1f GB/s (read+write, same process)", sgemm_gflops, memory_gbs)
        if kernel_isa != host_isa { s += "\nnote: the kernels are not built for this CPU's widest ISA (\(host_isa))" }
        return s
    }
}

/// The kernel variant compiled into this build (CKernels/simd.h).
public enum KernelVariant {
    public static let isa = String(cString: mulo_kernel_isa())
    public static let march = String(cString: mulo_kernel_march())
    public static let vectorLanes = Int(mulo_kernel_vector_lanes())
    public static let hiddenBlock = Int(mulo_kernel_hidden_block())
    /// The variants from narrowest to widest.
    public static let order = ["generic", "sse2", "neon", "avx2", "avx512"]
}
