import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct BatchLoaderTests {
    @Test func batchesCoverThePartOnceWithTheStoredValues() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 500, seed: 11, to: source)
        _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/out")
        let store = try ColumnStore(directory: directory + "/out")
        var loader = BatchLoader(store: store, part: .train, batchSize: 64, shuffleSeed: 5)
        var batch = Batch(schema: store.schema)
        var seen: [Int: Int] = [:]
        var batches = 0
        // Rows are identified by their stored values; check each batch row against the store.
        let trainRows = store.rowIndices(of: .train)
        var byIDs: [[UInt32]: Int] = [:]
        for row in trainRows { byIDs[store.categoricalIDs(row)] = row }
        while loader.next(into: &batch) {
            batches += 1
            #expect(batch.size <= 64)
            for i in 0..<batch.size {
                let ids = Array(batch.ids[i * 26..<(i + 1) * 26])
                let row = try #require(byIDs[ids])
                seen[row, default: 0] += 1
                #expect(batch.labels[i] == Float(store.label(row)))
                #expect((0..<13).map { batch.dense[i, $0] } == store.dense(row))
            }
        }
        #expect(batches == loader.batchesPerEpoch)
        #expect(seen.count == byIDs.count)
        #expect(seen.values.reduce(0, +) == trainRows.count)
        // Shuffling: a new epoch visits the rows in another order, reproducibly from the seed
        // and the epoch alone (a resumed run recreates epoch 2 without replaying epoch 1).
        loader.startEpoch(1)
        _ = loader.next(into: &batch)
        let firstEpochFirst = Array(batch.ids[0..<26])
        loader.startEpoch(2)
        _ = loader.next(into: &batch)
        let secondEpochFirst = Array(batch.ids[0..<26])
        #expect(secondEpochFirst != firstEpochFirst)
        var again = BatchLoader(store: store, part: .train, batchSize: 64, shuffleSeed: 5)
        var other = Batch(schema: store.schema)
        again.startEpoch(2)
        _ = again.next(into: &other)
        #expect(Array(other.ids[0..<26]) == secondEpochFirst)
        // Skipping batches lands where iterating would have.
        _ = again.next(into: &other)
        let third = Array(other.ids[0..<26])
        again.startEpoch(2)
        again.skip(batches: 2)
        _ = again.next(into: &other)
        loader.startEpoch(2)
        for _ in 0..<3 { _ = loader.next(into: &batch) }
        #expect(Array(other.ids[0..<26]) == Array(batch.ids[0..<26]))
        #expect(third != Array(other.ids[0..<26]))
    }
}
