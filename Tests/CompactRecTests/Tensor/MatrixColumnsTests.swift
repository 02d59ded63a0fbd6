import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct MatrixColumnsTests {
    @Test func concatenateAndSplitColumns() {
        var whole = Matrix(rows: 2, columns: 5)
        whole.setColumns(0, from: Matrix(rows: 2, columns: 2, values: [1, 2, 3, 4]))
        whole.setColumns(2, from: Matrix(rows: 2, columns: 3, values: [5, 6, 7, 8, 9, 10]))
        #expect(whole.values == [1, 2, 5, 6, 7, 3, 4, 8, 9, 10])
        var part = Matrix(rows: 0, columns: 3)
        whole.copyColumns(2, into: &part)
        #expect(part == Matrix(rows: 2, columns: 3, values: [5, 6, 7, 8, 9, 10]))
        var sum = Matrix(rows: 2, columns: 2, repeating: 1)
        whole.addColumns(1, to: &sum)
        #expect(sum.values == [3, 6, 5, 9])
    }
}
