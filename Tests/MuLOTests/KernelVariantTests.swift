import Testing
@testable import MuLO

@Suite struct KernelVariantTests {
    /// A build for the machine it runs on (the default -march=native) must hold the variant of the
    /// CPU's widest ISA: a silent fall-back to a narrower path would cost a factor 2–4.
    @Test func variantMatchesHostISA() {
        let host = HostCPU.current.bestISA
        if KernelVariant.march == "native" {
            #expect(KernelVariant.isa == host, "kernels built for \(KernelVariant.isa), CPU offers \(host)")
        } else {
            // A named baseline (MULO_MARCH) may be narrower than the CPU, never wider.
            let order = KernelVariant.order
            #expect(order.firstIndex(of: KernelVariant.isa)! <= order.firstIndex(of: host)!)
        }
        // The register blocking of simd.h: accumulators, inputs and a broadcast fit the register file.
        let tileVectors = 16 / KernelVariant.vectorLanes
        let registers = KernelVariant.isa == "avx512" || KernelVariant.isa == "neon" ? 32 : 16
        #expect(KernelVariant.hiddenBlock * tileVectors + tileVectors + 1 <= registers)
        #expect(32 % KernelVariant.hiddenBlock == 0)
    }

    @Test func cpuinfoParsing() {
        let zen3 = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse sse2 avx fma avx2 bmi2\n\nprocessor\t: 1\nmodel name\t: other\n"
        let cpu = HostCPU(cpuinfo: zen3)
        #expect(cpu.model == "AMD EPYC 7B13")
        #expect(cpu.bestISA == "avx2")
        #expect(HostCPU(cpuinfo: "flags : sse2 avx2 fma avx512f").bestISA == "avx512")
        #expect(HostCPU(cpuinfo: "flags : sse sse2 avx").bestISA == "sse2")
        #expect(HostCPU(cpuinfo: "Features : fp asimd evtstrm").bestISA == "neon")
        #expect(HostCPU(cpuinfo: "").model == "unknown CPU")
    }
}
