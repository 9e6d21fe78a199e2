// swift-tools-version:6.1
import Foundation
import PackageDescription

// The CPU the kernels are compiled for: the build machine's own by default. Set MULO_MARCH to a
// named baseline (e.g. x86-64-v3 for AVX2 nodes, x86-64-v4 for AVX-512) to build one binary for
// a cluster of mixed CPUs; use a separate --scratch-path per value (README, "Builds for clusters").
let march = ProcessInfo.processInfo.environment["MULO_MARCH"].flatMap { $0.isEmpty ? nil : $0 } ?? "native"
// swiftc's -target-cpu takes CPU names only: the x86-64 levels map to the oldest CPU of each.
let swiftCPU = ["x86-64-v2": "nehalem", "x86-64-v3": "haswell", "x86-64-v4": "skylake-avx512"][march] ?? march

let package = Package(
    name: "MuLO",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MuLO", targets: ["MuLO"]),
        .executable(name: "mulo", targets: ["mulo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C libraries from Debian packages, found through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CMPIShim", dependencies: ["CMPI"]),
        // HDF5's type and file-mode constants are C macros Swift cannot import.
        .target(name: "CHDF5Shim", dependencies: ["CHDF5"]),
        // C's stdout buffering, which Swift 6 cannot reach.
        .target(name: "CStdioShim"),
        // Vectorised kernels, register-blocked for the ISA of `march` (simd.h).
        .target(
            name: "CKernels",
            exclude: ["README.md"],
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-march=\(march)"]),
                        .define("MULO_MARCH", to: "\"\(march)\"")]
        ),
        // Layer 1: tensors, BLAS, parallel chunking, random keys, HDF5 — no knowledge of tasks or optimizers.
        .target(
            name: "MuLOCore",
            dependencies: ["CBLAS", "CHDF5", "CHDF5Shim", "CZlib"],
            exclude: ["Core", "Random", "HDF5", "Logging"].map { "\($0)/README.md" },
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", swiftCPU], .when(configuration: .release))]
        ),
        // Layer 2: data, tasks, optimizers (hand-designed and learned), the inner step and `train`.
        .target(
            name: "MuLOTraining",
            dependencies: ["MuLOCore", "CKernels", "CZlib"],
            exclude: ["Data", "Data/Text", "Tasks", "Tasks/MLP", "Tasks/Transformer", "Tasks/ViT", "Optimizers", "Training", "LearnedOptimizer", "LearnedOptimizer/SmallFCLOpt", "LearnedOptimizer/VeLO"].map { "\($0)/README.md" },
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", swiftCPU], .when(configuration: .release))]
        ),
        // Layer 3: meta-training (PES/ES, outer loop, checkpoints, configs) and its MPI exchange.
        .target(
            name: "MuLOMeta",
            dependencies: ["MuLOTraining", "CMPIShim", .product(name: "TOMLKit", package: "TOMLKit")],
            exclude: ["MetaTraining", "Distributed"].map { "\($0)/README.md" },
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", swiftCPU], .when(configuration: .release))]
        ),
        // Layer 4: evaluation, export, plots, the golden-file checks and benchmarks; re-exports the layers below.
        .target(
            name: "MuLO",
            dependencies: ["MuLOMeta", "CBLAS", "CHDF5", "CHDF5Shim", "CZlib", "CKernels"],
            exclude: ["Bench", "Evaluation", "Export", "Plotting", "Reference"].map { "\($0)/README.md" },
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", swiftCPU], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "mulo",
            dependencies: ["MuLO", "CStdioShim", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "MuLOTests", dependencies: ["MuLO", "MuLOCore", "MuLOTraining", "MuLOMeta"]),
    ],
    swiftLanguageModes: [.v6]
)
