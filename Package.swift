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

// The package's own library targets are compiled testable in every configuration, so the test
// command (`swift test -c release --disable-testable-imports`) reuses every module that
// `swift run -c release compactrec` built: asking SwiftPM for testability instead
// (`-Xswiftc -enable-testing`, or testable imports in release) recompiles every dependency,
// SwiftNIO and Hummingbird included, a second time (docs/ARCHITECTURE.md, "Builds").
let librarySettings: [SwiftSetting] = cpuSettings + [.unsafeFlags(["-enable-testing"])]

let package = Package(
    name: "CompactRec",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "CompactRecData", targets: ["CompactRecData"]),
        .library(name: "CompactRec", targets: ["CompactRec"]),
        .library(name: "CompactRecInference", targets: ["CompactRecInference"]),
        .library(name: "CompactRecServer", targets: ["CompactRecServer"]),
        .executable(name: "compactrec", targets: ["compactrec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The scoring server (CompactRecServer) and its tests only; the CompactRec library needs none of these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    // Targets, lowest first; each imports only those above it (docs/ARCHITECTURE.md):
    // CompactRecData (readers, prepared datasets, the teacher generator, metrics, atomic files)
    // <- CompactRec (the training core: kernels, layers, embeddings, models, optimizers, the
    // trainer, AutoDim's search, run reports; one module so the kernels inline)
    // <- CompactRecInference (model files, prediction, exports)
    // <- CompactRecServer (HTTP) <- compactrec (the command line).
    targets: [
        .target(name: "CompactRecShims"),
        .target(
            name: "CompactRecData",
            dependencies: ["CompactRecShims", .product(name: "Yams", package: "Yams")],
            swiftSettings: librarySettings
        ),
        .target(
            name: "CompactRec",
            dependencies: ["CompactRecData", "CompactRecShims", .product(name: "Yams", package: "Yams")],
            swiftSettings: librarySettings
        ),
        .target(
            name: "CompactRecInference",
            dependencies: ["CompactRecData", "CompactRec"],
            swiftSettings: librarySettings
        ),
        .target(
            name: "CompactRecServer",
            dependencies: [
                "CompactRecData",
                "CompactRec",
                "CompactRecInference",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: librarySettings
        ),
        .executableTarget(
            name: "compactrec",
            dependencies: [
                "CompactRecData",
                "CompactRec",
                "CompactRecInference",
                "CompactRecServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuSettings
        ),
        // A small trained model and its files, shared by both test targets.
        .target(
            name: "CompactRecTestSupport",
            dependencies: ["CompactRecData", "CompactRec", "CompactRecInference"],
            path: "Tests/CompactRecTestSupport",
            swiftSettings: librarySettings
        ),
        .testTarget(
            name: "CompactRecTests",
            dependencies: ["CompactRecData", "CompactRec", "CompactRecInference", "CompactRecTestSupport"],
            exclude: ["Fixtures/PROVENANCE.md"],
            resources: [.copy("Fixtures/files")],
            swiftSettings: cpuSettings
        ),
        .testTarget(
            name: "CompactRecServerTests",
            dependencies: [
                "CompactRecData",
                "CompactRec",
                "CompactRecInference",
                "CompactRecServer",
                "CompactRecTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: cpuSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
