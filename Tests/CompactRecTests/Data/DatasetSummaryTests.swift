import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct DatasetSummaryTests {
    /// A dataset small enough to work out by hand: 10 rows, sequential split (8 train, 1
    /// validation, 1 test), one dense and one categorical column.
    @Test func summaryMatchesHandCountedStatistics() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let schema = TestData.write(
            """
            label: y
            dense: [x]
            categorical: [c]
            """, to: "s.yaml", in: directory)
        // Train rows (1-8): c = a x4, b x2, missing x1, z x1 (z rare: OOV at min count 2).
        // Validation row 9: c = q (never in train: OOV). Test row 10: c = a.
        let data = TestData.write(
            """
            y,x,c
            1,1,a
            0,2,a
            0,,b
            1,3,a
            0,4,
            0,5,b
            0,6,z
            1,7,a
            1,8,q
            0,9,a
            """, to: "d.csv", in: directory)
        var options = PrepareOptions()
        options.split = .sequential
        options.minCount = 2
        _ = try Preparer.prepare(
            format: DelimitedFormat(schemaPath: schema), formatName: "schema", inputs: [data],
            output: directory + "/out", options: options)
        let summary = try DatasetSummary(store: ColumnStore(directory: directory + "/out"), top: 5)
        #expect(summary.rows == 10)
        #expect(summary.positives == 4)
        #expect(summary.clickRate == 0.4)
        #expect(summary.split == "sequential")
        #expect(summary.parts.map(\.rows) == [8, 1, 1])
        #expect(summary.parts.map(\.positives) == [3, 1, 0])
        let dense = try #require(summary.fields.first { $0.name == "x" })
        #expect(dense.missingShare == 0.1)
        #expect(dense.cardinality == nil)
        let field = try #require(summary.fields.first { $0.name == "c" })
        #expect(field.cardinality == 4)  // OOV, missing, a, b
        #expect(field.distinctValues == 4)  // a, b, z, q
        #expect(field.missingShare == 0.1)
        #expect(field.oovShare == ["train": 1.0 / 8, "validation": 1, "test": 0])
        #expect(field.topValues?.map(\.value) == ["a", "b"])
        #expect(field.topValues?.map(\.count) == [4, 2])

        // The JSON form carries the same numbers, with `rows` the total.
        let encoded = try JSONEncoder().encode(summary)
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["rows"] as? Int == 10)
    }
}
