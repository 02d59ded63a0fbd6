import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct DotInteractionTests {
    /// The documented order, written out: for i, for j < i (j <= i with self pairs).
    static func bruteForce(_ x: Matrix, fields: Int, dimension: Int, includeSelf: Bool) -> [[Double]] {
        (0..<x.rows).map { r in
            var row: [Double] = []
            for i in 0..<fields {
                for j in 0..<fields where includeSelf ? j <= i : j < i {
                    var dot = 0.0
                    for k in 0..<dimension { dot += Double(x[r, i * dimension + k]) * Double(x[r, j * dimension + k]) }
                    row.append(dot)
                }
            }
            return row
        }
    }

    @Test func forwardMatchesBruteForceInDLRMOrder() {
        for includeSelf in [false, true] {
            // Dimension 11: one SIMD8 block and a remainder of 3.
            let layer = DotInteraction(fields: 4, dimension: 11, includeSelf: includeSelf)
            #expect(layer.outputs == (includeSelf ? 10 : 6))
            let x = TestMatrix.random(rows: 3, columns: 44, seed: 1)
            let y = layer.forward(x, training: false)
            let expected = Self.bruteForce(x, fields: 4, dimension: 11, includeSelf: includeSelf)
            #expect(y.rows == 3 && y.columns == layer.outputs)
            for r in 0..<3 {
                for c in 0..<layer.outputs { #expect(abs(Double(y[r, c]) - expected[r][c]) < 1e-5) }
            }
        }
    }

    @Test func forwardAndBackwardMatchBruteForceOnLargerShapes() {
        // Shapes that reach every path of the kernels: blocks of four rows, several column
        // chunks of eight, and widths with and without a remainder after the SIMD8 blocks.
        for (fields, dimension) in [(13, 11), (9, 16), (17, 5), (2, 8), (8, 1)] {
            for includeSelf in [false, true] {
                let layer = DotInteraction(fields: fields, dimension: dimension, includeSelf: includeSelf)
                let x = TestMatrix.random(rows: 3, columns: fields * dimension, seed: UInt64(fields * 100 + dimension))
                let y = layer.forward(x, training: true)
                let expected = Self.bruteForce(x, fields: fields, dimension: dimension, includeSelf: includeSelf)
                for r in 0..<3 {
                    for c in 0..<layer.outputs { #expect(abs(Double(y[r, c]) - expected[r][c]) < 1e-5) }
                }
                // Backward against the pair-by-pair rule.
                let g = TestMatrix.random(rows: 3, columns: layer.outputs, seed: 7)
                let dx = layer.backward(g)
                for r in 0..<3 {
                    var want = [Double](repeating: 0, count: fields * dimension)
                    for i in 0..<fields {
                        for j in 0..<fields where includeSelf ? j <= i : j < i {
                            let gradient = Double(g[r, layer.column(i, j)])
                            for k in 0..<dimension {
                                want[i * dimension + k] += gradient * Double(x[r, j * dimension + k])
                                want[j * dimension + k] += gradient * Double(x[r, i * dimension + k])
                            }
                        }
                    }
                    for k in 0..<fields * dimension { #expect(abs(Double(dx[r, k]) - want[k]) < 1e-5) }
                }
            }
        }
    }

    @Test func orderIsLowerTriangleRowByRow() {
        // Vectors e0 * 1, e0 * 2, e0 * 3 (width 1): pairs (1,0), (2,0), (2,1) -> 2, 3, 6.
        let layer = DotInteraction(fields: 3, dimension: 1)
        #expect(layer.forward(Matrix(rows: 1, columns: 3, values: [1, 2, 3]), training: false).values == [2, 3, 6])
        #expect(layer.column(1, 0) == 0 && layer.column(2, 0) == 1 && layer.column(2, 1) == 2)
        let withSelf = DotInteraction(fields: 3, dimension: 1, includeSelf: true)
        // (0,0), (1,0), (1,1), (2,0), (2,1), (2,2)
        #expect(withSelf.forward(Matrix(rows: 1, columns: 3, values: [1, 2, 3]), training: false).values == [1, 2, 4, 3, 6, 9])
        #expect(withSelf.column(2, 2) == 5 && withSelf.column(1, 1) == 2)
    }

    @Test func gradientsMatchFiniteDifferencesAcrossBatchSizes() {
        for includeSelf in [false, true] {
            let layer = DotInteraction(fields: 4, dimension: 3, includeSelf: includeSelf)
            #expect(layer.parameters.isEmpty)
            for (index, batch) in [5, 3, 4].enumerated() {
                GradientCheck().verify(layer, input: TestMatrix.random(rows: batch, columns: 12, seed: 10 + UInt64(index)))
            }
        }
        // Six fields of width 9: a block of four rows and single rows, a SIMD8 block and a
        // remainder.
        for includeSelf in [false, true] {
            GradientCheck().verify(
                DotInteraction(fields: 6, dimension: 9, includeSelf: includeSelf),
                input: TestMatrix.random(rows: 3, columns: 54, seed: 20))
        }
    }

    @Test func threadsGiveTheSameBits() {
        let x = TestMatrix.random(rows: 120, columns: 8 * 16, seed: 3)
        let dy = TestMatrix.random(rows: 120, columns: 28, seed: 4)
        let one = DotInteraction(fields: 8, dimension: 16)
        let two = DotInteraction(fields: 8, dimension: 16)
        two.threads = 2
        #expect(TestMatrix.identical(one.forward(x, training: true), two.forward(x, training: true)))
        #expect(TestMatrix.identical(one.backward(dy), two.backward(dy)))
    }

    @Test func denseAndVectorsFormGivesTheBitsOfTheConcatenatedForm() {
        // DLRM's call: the dense vector and the embeddings apart, the output [dense | pairs].
        for (fields, dimension) in [(27, 16), (5, 11), (4, 3)] {
            for includeSelf in [false, true] {
                for threads in [1, 2] {
                    let seed = UInt64(fields * 10 + dimension)
                    let rows = 37
                    let dense = TestMatrix.random(rows: rows, columns: dimension, seed: seed)
                    let vectors = TestMatrix.random(rows: rows, columns: (fields - 1) * dimension, seed: seed + 1)
                    var joined = Matrix(rows: rows, columns: fields * dimension)
                    joined.setColumns(0, from: dense)
                    joined.setColumns(dimension, from: vectors)
                    let apart = DotInteraction(fields: fields, dimension: dimension, includeSelf: includeSelf)
                    let together = DotInteraction(fields: fields, dimension: dimension, includeSelf: includeSelf)
                    apart.threads = threads
                    let output = apart.forward(dense: dense, vectors: vectors, training: true)
                    let pairs = together.forward(joined, training: true)
                    var expected = Matrix(rows: rows, columns: dimension + pairs.columns)
                    expected.setColumns(0, from: dense)
                    expected.setColumns(dimension, from: pairs)
                    let context = "\(fields) x \(dimension) self \(includeSelf) threads \(threads)"
                    #expect(TestMatrix.identical(output, expected), "\(context)")

                    let gradient = TestMatrix.random(rows: rows, columns: dimension + pairs.columns, seed: seed + 2)
                    var pairsGradient = Matrix(rows: rows, columns: pairs.columns)
                    gradient.copyColumns(dimension, into: &pairsGradient)
                    let joinedGradient = together.backward(pairsGradient)
                    var denseGradient = Matrix(rows: rows, columns: dimension)
                    gradient.copyColumns(0, into: &denseGradient)
                    joinedGradient.addColumns(0, to: &denseGradient)
                    var vectorGradient = Matrix(rows: rows, columns: (fields - 1) * dimension)
                    joinedGradient.copyColumns(dimension, into: &vectorGradient)
                    let gradients = apart.backward(concatenatedGradient: gradient)
                    #expect(TestMatrix.identical(gradients.dense, denseGradient), "\(context)")
                    #expect(TestMatrix.identical(gradients.vectors, vectorGradient), "\(context)")
                }
            }
        }
    }
}
