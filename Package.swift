// swift-tools-version:6.0
import PackageDescription

// SIMD kernels need AVX2 + FMA code generation: without a target CPU, `SIMD8<Float>` fused
// multiply-adds compile to libm calls and run ~100x slower (see docs/ARCHITECTURE.md).
// Non-x86 hosts build with their default target.
#if arch(x86_64)
let cpuSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
#else
let cpuSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "CompactRec",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "CompactRec", targets: ["CompactRec"]),
        .executable(name: "compactrec", targets: ["compactrec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "CompactRecShims"),
        .target(
            name: "CompactRec",
            dependencies: ["CompactRecShims", .product(name: "Yams", package: "Yams")],
            swiftSettings: cpuSettings
        ),
        .executableTarget(
            name: "compactrec",
            dependencies: [
                "CompactRec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuSettings
        ),
        // A small trained model and its files, shared by both test targets.
        .target(
            name: "CompactRecTestSupport",
            dependencies: ["CompactRec"],
            path: "Tests/CompactRecTestSupport",
            swiftSettings: cpuSettings
        ),
        .testTarget(
            name: "CompactRecTests",
            dependencies: ["CompactRec", "CompactRecTestSupport"],
            exclude: ["Fixtures/PROVENANCE.md"],
            resources: [.copy("Fixtures/files")],
            swiftSettings: cpuSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
