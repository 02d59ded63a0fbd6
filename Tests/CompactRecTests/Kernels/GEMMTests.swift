import Dispatch
import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// The optimised `GEMM.multiply` against the Double-accumulating `referenceMultiply`.
@Suite struct GEMMTests {
    /// The four combinations of (transposeA, transposeB).
    static let transposes: [(Bool, Bool)] = [(false, false), (false, true), (true, false), (true, true)]

    /// (m, n, k): tiny, single rows and columns, the 13-wide dense input, exact and ragged tiles
    /// (6 x 16), k across the 256 block boundary, m across the 144 row block, n across the
    /// 4080 column block.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 37, 13), (29, 1, 13), (1, 1, 300), (7, 5, 1), (6, 16, 13), (13, 17, 13),
        (6, 16, 256), (12, 32, 257), (5, 15, 600), (150, 33, 20), (97, 211, 31), (64, 48, 513),
        (3, 4100, 3),
    ]

    // MARK: helpers

    /// op(X) of size rows x columns, stored transposed when `transposed`.
    static func operand(rows: Int, columns: Int, transposed: Bool, random: inout SeededRandom) -> Matrix {
        transposed
            ? Matrix.uniform(rows: columns, columns: rows, limit: 1, random: &random)
            : Matrix.uniform(rows: rows, columns: columns, limit: 1, random: &random)
    }

    /// Expects `actual` within 1e-5 * sqrt(k) (relative to the result's scale) of `expected`.
    static func expectClose(
        _ actual: Matrix, _ expected: Matrix, k: Int, _ context: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.rows == expected.rows && actual.columns == expected.columns, sourceLocation: sourceLocation)
        let scale = max(1, expected.values.reduce(0) { max($0, abs($1)) })
        let tolerance = 1e-5 * Float(max(1, k)).squareRoot() * scale
        var worst: Float = 0
        var worstIndex = 0
        for (index, (x, y)) in zip(actual.values, expected.values).enumerated() {
            let difference = abs(x - y)
            if !(difference <= worst) {
                worst = difference
                worstIndex = index
            }
        }
        #expect(
            worst <= tolerance,
            "\(context): largest difference \(worst) at \(worstIndex) (tolerance \(tolerance))",
            sourceLocation: sourceLocation)
    }

    /// Runs both multiplies from the same C and compares them.
    static func check(
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
        threads: Int = 1, seed: UInt64, cInitial: Float? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var random = SeededRandom(seed: seed)
        let a = operand(rows: m, columns: k, transposed: transposeA, random: &random)
        let b = operand(rows: k, columns: n, transposed: transposeB, random: &random)
        let c0 =
            cInitial.map { Matrix(rows: m, columns: n, repeating: $0) }
            ?? Matrix.uniform(rows: m, columns: n, limit: 1, random: &random)
        var fast = c0
        var reference = c0
        GEMM.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &fast, alpha: alpha, beta: beta, threads: threads)
        GEMM.referenceMultiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &reference, alpha: alpha, beta: beta)
        expectClose(
            fast, reference, k: k,
            "\(m)x\(n)x\(k) tA \(transposeA) tB \(transposeB) alpha \(alpha) beta \(beta) threads \(threads)",
            sourceLocation: sourceLocation)
    }

    // MARK: correctness

    @Test(arguments: 0..<4)
    func allShapesMatchReference(transposeIndex: Int) {
        let (transposeA, transposeB) = Self.transposes[transposeIndex]
        for (index, (m, n, k)) in Self.shapes.enumerated() {
            Self.check(
                m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 1, beta: 0,
                seed: UInt64(100 + index))
        }
    }

    @Test func randomShapesMatchReference() {
        var random = SeededRandom(seed: 42)
        for trial in 0..<40 {
            let m = 1 + Int(random.next() % 40)
            let n = 1 + Int(random.next() % 70)
            let k = 1 + Int(random.next() % 90)
            let (transposeA, transposeB) = Self.transposes[trial % 4]
            Self.check(
                m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 1, beta: 0,
                threads: 1 + trial % 2, seed: UInt64(trial))
        }
    }

    @Test(arguments: [(Float(1), Float(0)), (2.5, 0), (1, 1), (-0.5, 1), (0.75, -1.25), (1, 0.5), (-2, 3)])
    func alphaBeta(alpha: Float, beta: Float) {
        for (index, (transposeA, transposeB)) in Self.transposes.enumerated() {
            Self.check(
                m: 13, n: 35, k: 13, transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta,
                seed: UInt64(index))
            // Several k blocks: beta applies once, later blocks accumulate.
            Self.check(
                m: 20, n: 18, k: 530, transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta,
                seed: UInt64(10 + index))
        }
    }

    @Test func betaZeroIgnoresNaNInC() {
        for (transposeA, transposeB) in Self.transposes {
            for (m, n, k) in [(7, 19, 13), (12, 32, 300)] {
                Self.check(
                    m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 1.5, beta: 0,
                    seed: 3, cInitial: .nan)
            }
        }
    }

    @Test func alphaZeroOrEmptyInnerDimensionScalesC() {
        var random = SeededRandom(seed: 5)
        let c0 = Matrix.uniform(rows: 4, columns: 5, limit: 1, random: &random)
        // k = 0: C = beta * C.
        var c = c0
        GEMM.multiply(Matrix(rows: 4, columns: 0), Matrix(rows: 0, columns: 5), into: &c, alpha: 2, beta: 0.5)
        #expect(c.values == c0.values.map { $0 * 0.5 })
        var zeroed = Matrix(rows: 4, columns: 5, repeating: .nan)
        GEMM.multiply(Matrix(rows: 4, columns: 0), Matrix(rows: 0, columns: 5), into: &zeroed)
        #expect(zeroed.values == [Float](repeating: 0, count: 20))
        // alpha = 0: A and B are not read (NaNs there do not matter).
        var d = c0
        GEMM.multiply(Matrix(rows: 4, columns: 3, repeating: .nan), Matrix(rows: 3, columns: 5), into: &d, alpha: 0, beta: 2)
        #expect(d.values == c0.values.map { $0 * 2 })
        // Empty C: nothing to do.
        var empty = Matrix(rows: 0, columns: 5)
        GEMM.multiply(Matrix(rows: 0, columns: 3), Matrix(rows: 3, columns: 5), into: &empty)
        #expect(empty.count == 0)
    }

    @Test func knownSmallProduct() {
        // [1 2 3; 4 5 6] [7 8; 9 10; 11 12] = [58 64; 139 154]
        let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        let b = Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
        var c = Matrix(rows: 2, columns: 2)
        GEMM.multiply(a, b, into: &c)
        #expect(c.values == [58, 64, 139, 154])
        // A^T with A stored 3x2, B^T with B stored 2x3: the same product.
        let at = Matrix(rows: 3, columns: 2, values: [1, 4, 2, 5, 3, 6])
        let bt = Matrix(rows: 2, columns: 3, values: [7, 9, 11, 8, 10, 12])
        var d = Matrix(rows: 2, columns: 2)
        GEMM.multiply(at, transposeA: true, bt, transposeB: true, into: &d)
        #expect(d.values == [58, 64, 139, 154])
    }

    @Test func spareCapacityIsIgnored() {
        // Matrices shrunk with resize keep spare storage; only the valid part is used.
        var random = SeededRandom(seed: 9)
        var a = Matrix.uniform(rows: 40, columns: 13, limit: 1, random: &random)
        a.resize(rows: 23)
        let b = Matrix.uniform(rows: 13, columns: 20, limit: 1, random: &random)
        var c = Matrix(rows: 40, columns: 20, repeating: 7)
        c.resize(rows: 23)
        var reference = c
        GEMM.multiply(a, b, into: &c, beta: 1)
        GEMM.referenceMultiply(a, b, into: &reference, beta: 1)
        Self.expectClose(c, reference, k: 13, "resized")
        #expect(c.storage[23 * 20..<40 * 20].allSatisfy { $0 == 7 })
    }

    // MARK: threads and determinism

    /// Shapes large enough to run in parallel: rows split, columns split (few rows), ragged,
    /// several k blocks, many claimed row blocks.
    static let parallelShapes: [(Int, Int, Int)] = [
        (150, 70, 40), (8, 300, 200), (97, 211, 31), (61, 45, 530), (600, 17, 30),
        // A read in place (n <= 32, either way round), with ragged rows and
        // columns: DLRM's 13- and 16-wide layers; and few rows.
        (1000, 13, 300), (700, 32, 90), (13, 512, 600), (16, 500, 300), (17, 29, 700),
    ]

    @Test(arguments: 0..<4)
    func threadCountsGiveIdenticalBits(transposeIndex: Int) {
        let (transposeA, transposeB) = Self.transposes[transposeIndex]
        for (index, (m, n, k)) in Self.parallelShapes.enumerated() {
            var random = SeededRandom(seed: UInt64(50 + index))
            let a = Self.operand(rows: m, columns: k, transposed: transposeA, random: &random)
            let b = Self.operand(rows: k, columns: n, transposed: transposeB, random: &random)
            let c0 = Matrix.uniform(rows: m, columns: n, limit: 1, random: &random)
            var results: [Matrix] = []
            for threads in [1, 2, 3, 2] {
                var c = c0
                GEMM.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: 0.5, beta: 0.25, threads: threads)
                results.append(c)
            }
            for result in results.dropFirst() {
                #expect(result.values.map(\.bitPattern) == results[0].values.map(\.bitPattern), "\(m)x\(n)x\(k)")
            }
            var reference = c0
            GEMM.referenceMultiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &reference, alpha: 0.5, beta: 0.25)
            Self.expectClose(results[0], reference, k: k, "\(m)x\(n)x\(k) tA \(transposeA) tB \(transposeB)")
        }
    }

    /// Products with a dimension of 1 (the vector path), large enough to run in parallel: the
    /// logit layer's X w, X^T dY and dY w^T at a batch of 4096, and m = 1.
    static let vectorShapes: [(Int, Int, Int)] = [(4096, 1, 400), (400, 1, 4096), (4096, 400, 1), (1, 3000, 400), (1, 1, 300_000)]

    @Test(arguments: 0..<4)
    func vectorProductsMatchReferenceWithIdenticalBitsOnAnyThreadCount(transposeIndex: Int) {
        let (transposeA, transposeB) = Self.transposes[transposeIndex]
        for (index, (m, n, k)) in Self.vectorShapes.enumerated() {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-1.5, 0.25)] {
                var random = SeededRandom(seed: UInt64(70 + index))
                let a = Self.operand(rows: m, columns: k, transposed: transposeA, random: &random)
                let b = Self.operand(rows: k, columns: n, transposed: transposeB, random: &random)
                let c0 =
                    beta == 0
                    ? Matrix(rows: m, columns: n, repeating: .nan) : Matrix.uniform(rows: m, columns: n, limit: 1, random: &random)
                var results: [Matrix] = []
                for threads in [1, 2, 3] {
                    var c = c0
                    GEMM.multiply(
                        a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: alpha, beta: beta, threads: threads)
                    results.append(c)
                }
                for result in results.dropFirst() {
                    #expect(result.values.map(\.bitPattern) == results[0].values.map(\.bitPattern), "\(m)x\(n)x\(k)")
                }
                var reference = c0
                GEMM.referenceMultiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &reference, alpha: alpha, beta: beta)
                Self.expectClose(
                    results[0], reference, k: k, "\(m)x\(n)x\(k) tA \(transposeA) tB \(transposeB) alpha \(alpha) beta \(beta)")
            }
        }
    }

    @Test func rowVectorGivesTheBitsOfAddingItAfterwards() {
        // Ragged tiles, several k blocks, the vector path (n = 1, m = 1, k = 1), every update.
        let shapes: [(Int, Int, Int)] = [(37, 45, 13), (150, 70, 530), (700, 400, 40), (4096, 1, 50), (1, 300, 40), (60, 35, 1)]
        for (index, (m, n, k)) in shapes.enumerated() {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (2, -0.75)] {
                var random = SeededRandom(seed: UInt64(90 + index))
                let a = Matrix.uniform(rows: m, columns: k, limit: 1, random: &random)
                let b = Matrix.uniform(rows: k, columns: n, limit: 1, random: &random)
                let bias = Matrix.uniform(rows: 1, columns: n, limit: 1, random: &random)
                let c0 = Matrix.uniform(rows: m, columns: n, limit: 1, random: &random)
                for threads in [1, 2] {
                    var fused = c0
                    GEMM.multiply(a, b, into: &fused, alpha: alpha, beta: beta, adding: bias, threads: threads)
                    var separate = c0
                    GEMM.multiply(a, b, into: &separate, alpha: alpha, beta: beta, threads: threads)
                    Elementwise.addRowVector(bias, to: &separate)
                    #expect(
                        fused.values.map(\.bitPattern) == separate.values.map(\.bitPattern),
                        "\(m)x\(n)x\(k) alpha \(alpha) beta \(beta) threads \(threads)")
                }
            }
        }
    }

    @Test func epiloguesGiveTheBitsOfTheSeparatePasses() {
        // Tiled products with ragged tiles and several k blocks, and the vector paths.
        let shapes: [(Int, Int, Int)] = [(37, 45, 13), (150, 70, 530), (4096, 1, 50), (1, 300, 40), (60, 35, 1)]
        for (index, (m, n, k)) in shapes.enumerated() {
            var random = SeededRandom(seed: UInt64(130 + index))
            let a = Matrix.uniform(rows: m, columns: k, limit: 1, random: &random)
            let b = Matrix.uniform(rows: k, columns: n, limit: 1, random: &random)
            let bias = Matrix.uniform(rows: 1, columns: n, limit: 1, random: &random)
            var mask = Matrix.uniform(rows: m, columns: n, limit: 1, random: &random)
            for i in stride(from: 0, to: m * n, by: 7) { mask[i / n, i % n] = 0 }
            for threads in [1, 2] {
                let context = "\(m)x\(n)x\(k) threads \(threads)"
                var product = Matrix(rows: m, columns: n)
                GEMM.multiply(a, b, into: &product, adding: bias, threads: threads)
                var relu = Matrix(rows: m, columns: n)
                GEMM.multiply(a, b, into: &relu, adding: bias, epilogue: .relu, threads: threads)
                var expected = Matrix(rows: m, columns: n)
                Elementwise.relu(product, into: &expected)
                #expect(relu.values.map(\.bitPattern) == expected.values.map(\.bitPattern), "relu \(context)")
                #expect(relu.values.contains(0) && relu.values.contains { $0 > 0 }, "relu \(context) is trivial")

                var masked = Matrix(rows: m, columns: n)
                GEMM.multiply(a, b, into: &masked, adding: bias, epilogue: .positiveMask(mask), threads: threads)
                Elementwise.reluBackward(output: mask, outputGradient: product, into: &expected)
                #expect(masked.values.map(\.bitPattern) == expected.values.map(\.bitPattern), "mask \(context)")
            }
        }
    }

    @Test func columnSumsWhilePackingMatchTheSumsAndTheThreadCountDoesNotMatter() {
        // A weight gradient's shapes (X^T dY, several k blocks, a ragged last panel, several
        // column blocks), and the vector paths, which sum separately.
        let shapes: [(Int, Int, Int)] = [(37, 45, 700), (13, 512, 4096), (5, 4100, 600), (256, 1, 300), (30, 20, 1)]
        for (index, (m, n, k)) in shapes.enumerated() {
            var random = SeededRandom(seed: UInt64(150 + index))
            let x = Matrix.uniform(rows: k, columns: m, limit: 1, random: &random)
            let dy = Matrix.uniform(rows: k, columns: n, limit: 1, random: &random)
            let c0 = Matrix.uniform(rows: m, columns: n, limit: 1, random: &random)
            let s0 = Matrix.uniform(rows: 1, columns: n, limit: 1, random: &random)
            var results: [(Matrix, Matrix)] = []
            for threads in [1, 2] {
                var c = c0
                var sums = s0
                GEMM.multiply(x, transposeA: true, dy, into: &c, beta: 1, addingColumnSumsOfBTo: &sums, threads: threads)
                results.append((c, sums))
            }
            let context = "\(m)x\(n)x\(k)"
            #expect(TestMatrix.identical(results[0].0, results[1].0) && TestMatrix.identical(results[0].1, results[1].1), "\(context)")
            var product = c0
            GEMM.multiply(x, transposeA: true, dy, into: &product, beta: 1)
            #expect(TestMatrix.identical(results[0].0, product), "\(context): the product is unchanged")
            for j in 0..<n {
                var exact = Double(s0[0, j])
                for r in 0..<k { exact += Double(dy[r, j]) }
                #expect(abs(Double(results[0].1[0, j]) - exact) < 1e-6 * Double(k) + 1e-4, "\(context) column \(j)")
            }
        }
    }

    @Test func reluEpilogueKeepsNaNAndMakesNegativeZeroPositive() {
        // alpha 0 leaves C = beta C, so the epilogue sees these values exactly.
        let special: [Float] = [-0.0, .nan, -2, 3, 0, -.infinity, .infinity, -1e-30]
        let c0 = Matrix(rows: 1, columns: special.count, values: special)
        let a = Matrix(rows: 1, columns: 4, repeating: 1)
        let b = Matrix(rows: 4, columns: special.count, repeating: 1)
        var fused = c0
        GEMM.multiply(a, b, into: &fused, alpha: 0, beta: 1, epilogue: .relu)
        var separate = Matrix(rows: 1, columns: special.count)
        Elementwise.relu(c0, into: &separate)
        #expect(fused.values.map(\.bitPattern) == separate.values.map(\.bitPattern))
        #expect(fused[0, 0].bitPattern == Float(0).bitPattern && fused[0, 1].isNaN && fused[0, 6] == .infinity)
    }

    // MARK: workspaces

    @Test func explicitWorkspaceIsReusedWithoutGrowing() {
        let workspace = GEMMWorkspace()
        var random = SeededRandom(seed: 11)
        let a = Matrix.uniform(rows: 100, columns: 300, limit: 1, random: &random)
        let b = Matrix.uniform(rows: 300, columns: 40, limit: 1, random: &random)
        var c = Matrix(rows: 100, columns: 40)
        GEMM.multiply(a, b, into: &c, threads: 2, workspace: workspace)
        let reserved = workspace.reservedBytes
        #expect(reserved > 0)
        for _ in 0..<3 { GEMM.multiply(a, b, into: &c, threads: 2, workspace: workspace) }
        #expect(workspace.reservedBytes == reserved)
        // A smaller product reuses the same buffers.
        var small = Matrix(rows: 3, columns: 5)
        let x = Matrix.uniform(rows: 3, columns: 13, limit: 1, random: &random)
        let w = Matrix.uniform(rows: 13, columns: 5, limit: 1, random: &random)
        GEMM.multiply(x, w, into: &small, workspace: workspace)
        #expect(workspace.reservedBytes == reserved)
        var reference = Matrix(rows: 3, columns: 5)
        GEMM.referenceMultiply(x, w, into: &reference)
        Self.expectClose(small, reference, k: 13, "small after large")
        var referenceLarge = Matrix(rows: 100, columns: 40)
        GEMM.referenceMultiply(a, b, into: &referenceLarge)
        Self.expectClose(c, referenceLarge, k: 300, "large")
    }

    @Test func concurrentCallsSharingAWorkspaceAreCorrect() {
        // Calls sharing one workspace take turns; calls with none borrow from the pool. Half of
        // them are big enough to run on two threads themselves.
        let workspace = GEMMWorkspace()
        let products = 8
        let results = SharedArray<Matrix?>(repeating: nil, count: products)
        let inputs: [(Matrix, Matrix)] = (0..<products).map { index in
            var random = SeededRandom(seed: UInt64(200 + index))
            return (
                Matrix.uniform(rows: 30 + index * 40, columns: 70, limit: 1, random: &random),
                Matrix.uniform(rows: 70, columns: 25, limit: 1, random: &random)
            )
        }
        DispatchQueue.concurrentPerform(iterations: products) { index in
            let (a, b) = inputs[index]
            var c = Matrix(rows: a.rows, columns: b.columns)
            GEMM.multiply(a, b, into: &c, threads: 2, workspace: index % 2 == 0 ? workspace : nil)
            results[index] = c
        }
        for index in 0..<products {
            let (a, b) = inputs[index]
            var reference = Matrix(rows: a.rows, columns: b.columns)
            GEMM.referenceMultiply(a, b, into: &reference)
            guard let result = results[index] else {
                Issue.record("product \(index) missing")
                continue
            }
            Self.expectClose(result, reference, k: 70, "concurrent \(index)")
        }
    }

    // MARK: vectorisation

    @Test func compiledForAVX2AndFMA() {
        // Without the package's -march=x86-64-v3, SIMD8 fused multiply-adds become 8 libm
        // calls each and GEMM runs ~100x slower; bench/check_vectorized.sh checks the machine code.
        #if arch(x86_64)
            #expect(GEMMKernel.targetHasAVX2FMA, "CompactRec was built without AVX2 + FMA code generation")
        #endif
    }

    #if DEBUG
        static let optimisedBuild = false
    #else
        static let optimisedBuild = true
    #endif

    @Test(.enabled(if: optimisedBuild, "timing is meaningful only in optimised builds"))
    func kernelIsVectorisedNotLibmCalls() {
        // A vectorised kernel runs at tens of GFLOP/s even on a busy machine; the libm-call
        // fallback at under 1. The threshold sits far from both.
        var random = SeededRandom(seed: 13)
        let a = Matrix.uniform(rows: 192, columns: 256, limit: 1, random: &random)
        let b = Matrix.uniform(rows: 256, columns: 192, limit: 1, random: &random)
        var c = Matrix(rows: 192, columns: 192)
        let workspace = GEMMWorkspace()
        var best = Double.infinity
        for _ in 0..<10 {
            let start = DispatchTime.now().uptimeNanoseconds
            GEMM.multiply(a, b, into: &c, workspace: workspace)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let gflops = 2.0 * 192 * 192 * 256 / best / 1e9
        #expect(gflops > 5, "GEMM ran at \(gflops) GFLOP/s: is the kernel vectorised?")
    }
}
