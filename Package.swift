// swift-tools-version:6.1
import PackageDescription

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
        // Vectorised elementwise kernels; built for the host CPU (MuLO is built from source where it runs).
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-march=native"])]
        ),
        .target(
            name: "MuLO",
            dependencies: ["CBLAS", "CHDF5", "CHDF5Shim", "CZlib", "CKernels", "CMPIShim",
                           .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "native"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "mulo",
            dependencies: ["MuLO", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "MuLOTests", dependencies: ["MuLO"]),
    ],
    swiftLanguageModes: [.v6]
)
