import CompactRecData
import CompactRecShims

/// The plain embedding method (FDE, "full dimension embedding"): one table per field, the
/// field's vector is its row; multi-valued fields average their rows.
///
/// Each field may have its own width (AutoDim's retraining needs that); where a model needs
/// equal widths it adds a projection. This method is its own inference form.
public final class FullEmbedding: EmbeddingLayer {
    /// One table per field, in schema order (categorical, then multi-valued).
    public let tables: [EmbeddingTable]
    /// Width of each field's vectors.
    public let outputDimensions: [Int]
    /// Number of single-valued (categorical) fields; the rest are multi-valued.
    public let categoricalCount: Int
    private let offsets: [Int]
    private var output = Matrix(rows: 0, columns: 0)
    /// Cores the gather and the scatter may use (any count gives the same result).
    public var threads = Parallel.defaultThreads

    /// Tables for fields with `cardinalities` (schema order) and widths `dimensions`,
    /// initialised N(0, standardDeviation^2): small, as in DLRM and DeepCTR, so that the
    /// interaction terms start near zero.
    public init(
        cardinalities: [Int], dimensions: [Int], categoricalCount: Int, names: [String],
        standardDeviation: Float = 0.01, random: inout SeededRandom
    ) {
        precondition(
            cardinalities.count == dimensions.count && names.count == dimensions.count,
            "FullEmbedding: one cardinality, dimension and name per field")
        var tables: [EmbeddingTable] = []
        for f in 0..<cardinalities.count {
            var fieldRandom = SeededRandom(seed: random.next(), stream: UInt64(f))
            tables.append(
                EmbeddingTable(
                    name: names[f], rows: cardinalities[f], dimension: dimensions[f],
                    standardDeviation: standardDeviation, random: &fieldRandom))
        }
        self.tables = tables
        outputDimensions = dimensions
        self.categoricalCount = categoricalCount
        var offsets: [Int] = []
        var offset = 0
        for d in dimensions {
            offsets.append(offset)
            offset += d
        }
        self.offsets = offsets
        output = Matrix(rows: 0, columns: offset)
    }

    /// No dense parameters.
    public var denseParameters: [DenseParameter] { [] }

    /// Rows x width summed over tables.
    public var parameterCount: Int { tables.reduce(0) { $0 + $1.parameterCount } }

    /// The tables themselves: a plain table is its own inference form.
    public func inferenceForm() -> EmbeddingInferenceForm { EmbeddingInferenceForm(tables: tables, projections: [], projectionNames: []) }

    /// Gathers each row's field vectors side by side.
    ///
    /// Rows are split over `threads` cores (each output value is a copy or, for multi-valued
    /// fields, a mean in a fixed order, so the split does not change the result).
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        output.resize(rows: batch.size)
        let size = batch.size
        guard size > 0, output.columns > 0 else { return output }
        let width = output.columns
        let c = categoricalCount
        precondition(batch.ids.count >= size * c, "FullEmbedding: the batch has \(batch.ids.count) ids for \(size) x \(c) fields")
        let context = UncheckedSendable((tables, offsets, batch))
        output.withUnsafeMutableBufferPointer { out in
            guard let outBase = out.baseAddress else { return }
            let destination = UncheckedSendable(outBase)
            Elementwise.forEachRowRange(rows: size, workPerRow: 4 * width, threads: threads) { range in
                let (tables, offsets, batch) = context.value
                let out = destination.value
                for (f, table) in tables.enumerated() {
                    let d = table.dimension
                    let offset = offsets[f]
                    table.weights.withUnsafeBufferPointer { weights in
                        guard let w = weights.baseAddress else { return }
                        if f < c {
                            batch.ids.withUnsafeBufferPointer { ids in
                                let rows = table.rows
                                for b in range {
                                    // Rows are scattered over tables of up to millions of rows:
                                    // start loading the row a few samples ahead.
                                    let ahead = b &+ FullEmbedding.prefetchDistance
                                    if ahead < range.upperBound {
                                        let next = Int(ids[ahead &* c &+ f])
                                        if next < rows {
                                            compactrec_prefetch_for_read(w + next &* d)
                                            compactrec_prefetch_for_read(w + (next &* d &+ d &- 1))
                                        }
                                    }
                                    let row = Int(ids[b &* c &+ f])
                                    precondition(row < rows, "FullEmbedding: id \(row) outside table \(table.name) (\(rows) rows)")
                                    FullEmbedding.copy(w + row &* d, to: out + (b &* width &+ offset), d)
                                }
                            }
                        } else {
                            let m = f - c
                            batch.multiValuedOffsets[m].withUnsafeBufferPointer { ends in
                                batch.multiValuedIDs[m].withUnsafeBufferPointer { ids in
                                    for b in range {
                                        let target = out + (b &* width &+ offset)
                                        for k in 0..<d { target[k] = 0 }
                                        let count = ends[b + 1] - ends[b]
                                        guard count > 0 else { continue }
                                        let scale = 1 / Float(count)
                                        for i in ends[b]..<ends[b + 1] {
                                            let row = Int(ids[i])
                                            precondition(row < table.rows, "FullEmbedding: id \(row) outside table \(table.name)")
                                            let source = w + row &* d
                                            for k in 0..<d { target[k] += scale * source[k] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Samples ahead whose rows the gather prefetches.
    static let prefetchDistance = 8

    /// Copies `d` Floats (an embedding row), eight at a time.
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, _ d: Int) {
        var k = 0
        while k + 8 <= d {
            Elementwise.store8(Elementwise.load8(source + k), target + k)
            k += 8
        }
        while k < d {
            target[k] = source[k]
            k += 1
        }
    }

    /// Scatter-adds the output gradient into each table's sparse row gradients.
    ///
    /// Tables are shared out whole to `threads` cores; each table sums its rows in batch order,
    /// so the gradients are the same bits for any thread count.
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        let width = outputGradient.columns
        let c = categoricalCount
        let size = batch.size
        precondition(
            outputGradient.rows == size && width == output.columns,
            "FullEmbedding.backward expects a \(size)x\(output.columns) gradient, got \(outputGradient.rows)x\(width)")
        guard size > 0 else { return }
        let context = UncheckedSendable((tables, offsets, batch))
        outputGradient.withUnsafeBufferPointer { gradient in
            guard let gradientBase = gradient.baseAddress else { return }
            let source = UncheckedSendable(gradient)
            let base = UncheckedSendable(gradientBase)
            Parallel.forEachClaimed(tables.count, threads: threads) { f in
                let (tables, offsets, batch) = context.value
                let table = tables[f]
                let offset = offsets[f]
                if f < c {
                    batch.ids.withUnsafeBufferPointer { ids in
                        guard let idBase = ids.baseAddress else { return }
                        table.accumulateGradients(
                            ids: idBase + f, idStride: c, count: size,
                            gradients: base.value + offset, gradientStride: width)
                    }
                } else {
                    let m = f - c
                    let ends = batch.multiValuedOffsets[m]
                    for b in 0..<size {
                        let count = ends[b + 1] - ends[b]
                        guard count > 0 else { continue }
                        for i in ends[b]..<ends[b + 1] {
                            table.accumulateGradient(
                                row: batch.multiValuedIDs[m][i], from: source.value,
                                offset: b * width + offset, scale: 1 / Float(count))
                        }
                    }
                }
            }
        }
    }
}
