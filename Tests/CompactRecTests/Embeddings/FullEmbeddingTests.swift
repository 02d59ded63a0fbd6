import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// The parallel gather and scatter of `FullEmbedding` and the batched scatter of
/// `EmbeddingTable`: the same values as the one-row-at-a-time definitions, and the same bits for
/// any thread count.
@Suite struct FullEmbeddingTests {
    static let cardinalities = [50, 7, 300, 1, 40]
    static let dimensions = [16, 3, 8, 5, 16]

    /// A batch large enough to be split over threads, with many repeated ids per field and a
    /// multi-valued field (the last).
    static func batch(size: Int = 3000, seed: UInt64 = 4) -> Batch {
        var random = SeededRandom(seed: seed)
        var ids: [UInt32] = []
        for _ in 0..<size {
            for f in 0..<4 { ids.append(UInt32(random.next() % UInt64(cardinalities[f]))) }
        }
        var offsets = [0]
        var tags: [UInt32] = []
        for _ in 0..<size {
            for _ in 0..<Int(random.next() % 4) { tags.append(UInt32(random.next() % UInt64(cardinalities[4]))) }
            offsets.append(tags.count)
        }
        return Batch(
            labels: [Float](repeating: 0, count: size), dense: Matrix(rows: size, columns: 0), ids: ids,
            categoricalCount: 4, multiValuedOffsets: [offsets], multiValuedIDs: [tags])
    }

    static func embedding(threads: Int) -> FullEmbedding {
        var random = SeededRandom(seed: 8)
        let embedding = FullEmbedding(
            cardinalities: cardinalities, dimensions: dimensions, categoricalCount: 4,
            names: ["a", "b", "c", "d", "tags"], standardDeviation: 1, random: &random)
        embedding.threads = threads
        return embedding
    }

    @Test func forwardGathersRowsAndMeans() {
        let batch = Self.batch(size: 50)
        let embedding = Self.embedding(threads: 1)
        let output = embedding.forward(batch, training: true)
        let width = Self.dimensions.reduce(0, +)
        #expect(output.rows == 50 && output.columns == width)
        for b in 0..<50 {
            var offset = 0
            for f in 0..<4 {
                let row = Int(batch.ids[b * 4 + f])
                for k in 0..<Self.dimensions[f] {
                    #expect(output[b, offset + k] == embedding.tables[f].weights[row * Self.dimensions[f] + k])
                }
                offset += Self.dimensions[f]
            }
            let tags = batch.multiValuedIDs[0][batch.multiValuedOffsets[0][b]..<batch.multiValuedOffsets[0][b + 1]]
            for k in 0..<16 {
                var expected: Float = 0
                for tag in tags { expected += 1 / Float(tags.count) * embedding.tables[4].weights[Int(tag) * 16 + k] }
                #expect(output[b, offset + k] == expected)
            }
        }
    }

    @Test func gatherAndScatterAreIdenticalForAnyThreadCount() {
        let batch = Self.batch()
        var random = SeededRandom(seed: 12)
        let gradient = Matrix.uniform(rows: batch.size, columns: Self.dimensions.reduce(0, +), limit: 1, random: &random)
        var outputs: [[UInt32]] = []
        var gradients: [[[UInt32]]] = []
        var touched: [[[UInt32]]] = []
        for threads in [1, 2, 3] {
            let embedding = Self.embedding(threads: threads)
            outputs.append(embedding.forward(batch, training: true).values.map(\.bitPattern))
            embedding.backward(gradient, batch: batch)
            gradients.append(embedding.tables.map { $0.gradientRows.map(\.bitPattern) })
            touched.append(embedding.tables.map(\.touchedRows))
        }
        for i in 1..<outputs.count {
            #expect(outputs[i] == outputs[0])
            #expect(gradients[i] == gradients[0])
            #expect(touched[i] == touched[0])
        }
    }

    @Test func backwardMatchesRowByRowAccumulation() {
        let batch = Self.batch()
        var random = SeededRandom(seed: 13)
        let width = Self.dimensions.reduce(0, +)
        let gradient = Matrix.uniform(rows: batch.size, columns: width, limit: 1, random: &random)
        let embedding = Self.embedding(threads: 2)
        _ = embedding.forward(batch, training: true)
        embedding.backward(gradient, batch: batch)
        // The definition: one accumulateGradient call per (sample, categorical field), in order.
        var expected: [EmbeddingTable] = []
        gradient.withUnsafeBufferPointer { source in
            var offset = 0
            for f in 0..<4 {
                let table = EmbeddingTable(
                    name: "x", rows: Self.cardinalities[f], dimension: Self.dimensions[f],
                    weights: [Float](repeating: 0, count: Self.cardinalities[f] * Self.dimensions[f]))
                for b in 0..<batch.size {
                    table.accumulateGradient(row: batch.ids[b * 4 + f], from: source, offset: b * width + offset)
                }
                expected.append(table)
                offset += Self.dimensions[f]
            }
        }
        for f in 0..<4 {
            #expect(embedding.tables[f].touchedRows == expected[f].touchedRows)
            #expect(embedding.tables[f].gradientRows.map(\.bitPattern) == expected[f].gradientRows.map(\.bitPattern))
        }
    }

    @Test func batchedAccumulationContinuesExistingSlots() {
        let table = EmbeddingTable(name: "t", rows: 6, dimension: 9, weights: [Float](repeating: 0, count: 54))
        let reference = EmbeddingTable(name: "r", rows: 6, dimension: 9, weights: [Float](repeating: 0, count: 54))
        var random = SeededRandom(seed: 21)
        for call in 0..<3 {
            let ids: [UInt32] = (0..<7).map { _ in UInt32(random.next() % 6) }
            let values = (0..<7 * 9).map { _ in random.nextUnitFloat() - 0.5 }
            ids.withUnsafeBufferPointer { idBuffer in
                values.withUnsafeBufferPointer { source in
                    table.accumulateGradients(
                        ids: idBuffer.baseAddress!, idStride: 1, count: 7,
                        gradients: source.baseAddress!, gradientStride: 9)
                    for i in 0..<7 { reference.accumulateGradient(row: ids[i], from: source, offset: i * 9) }
                }
            }
            #expect(table.touchedRows == reference.touchedRows, "call \(call)")
            #expect(table.gradientRows == reference.gradientRows, "call \(call)")
        }
        table.zeroGradient()
        #expect(table.touchedRows.isEmpty && table.gradientRows.isEmpty)
        [UInt32(4)].withUnsafeBufferPointer { idBuffer in
            [Float](repeating: 1, count: 9).withUnsafeBufferPointer { source in
                table.accumulateGradients(
                    ids: idBuffer.baseAddress!, idStride: 1, count: 1,
                    gradients: source.baseAddress!, gradientStride: 9)
            }
        }
        #expect(table.touchedRows == [4] && table.gradientRows == [Float](repeating: 1, count: 9))
    }

    @Test func largeTablesAreInitialisedAsDrawnInOrder() {
        // 300,000 x 16 values (19 MB): large enough to be advised for huge pages.
        var random = SeededRandom(seed: 77)
        let table = EmbeddingTable(name: "big", rows: 300_000, dimension: 16, standardDeviation: 0.01, random: &random)
        var again = SeededRandom(seed: 77)
        var expected: [Float] = []
        expected.reserveCapacity(300_000 * 16)
        for _ in 0..<300_000 * 16 { expected.append(Float(again.nextGaussian()) * 0.01) }
        #expect(table.weights == expected)
        #expect(random.next() == again.next())
        let state = LargeArray.repeating(Float(0.5), count: 2_000_000)
        #expect(state.count == 2_000_000 && state.allSatisfy { $0 == 0.5 })
        #expect(LargeArray.repeating(Int32(-1), count: 0).isEmpty)
    }
}
