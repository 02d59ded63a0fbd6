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

    /// Tables for fields with `cardinalities` (schema order) and widths `dimensions`,
    /// initialised N(0, standardDeviation^2): small, as in DLRM and DeepCTR, so that the
    /// interaction terms start near zero.
    public init(cardinalities: [Int], dimensions: [Int], categoricalCount: Int, names: [String],
                standardDeviation: Float = 0.01, random: inout SeededRandom) {
        precondition(cardinalities.count == dimensions.count && names.count == dimensions.count,
                     "FullEmbedding: one cardinality, dimension and name per field")
        var tables: [EmbeddingTable] = []
        for f in 0..<cardinalities.count {
            var fieldRandom = SeededRandom(seed: random.next(), stream: UInt64(f))
            tables.append(EmbeddingTable(name: names[f], rows: cardinalities[f], dimension: dimensions[f],
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

    /// The tables themselves.
    public func inferenceTables() -> [EmbeddingTable] { tables }

    /// Gathers each row's field vectors side by side.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        output.resize(rows: batch.size)
        let width = output.columns
        let c = categoricalCount
        output.withUnsafeMutableBufferPointer { out in
            for (f, table) in tables.enumerated() {
                let d = table.dimension
                let offset = offsets[f]
                table.weights.withUnsafeBufferPointer { weights in
                    if f < c {
                        batch.ids.withUnsafeBufferPointer { ids in
                            for b in 0..<batch.size {
                                let row = Int(ids[b * c + f])
                                for k in 0..<d { out[b * width + offset + k] = weights[row * d + k] }
                            }
                        }
                    } else {
                        let m = f - c
                        let ends = batch.multiValuedOffsets[m]
                        let ids = batch.multiValuedIDs[m]
                        for b in 0..<batch.size {
                            for k in 0..<d { out[b * width + offset + k] = 0 }
                            let count = ends[b + 1] - ends[b]
                            guard count > 0 else { continue }
                            let scale = 1 / Float(count)
                            for i in ends[b]..<ends[b + 1] {
                                let row = Int(ids[i])
                                for k in 0..<d { out[b * width + offset + k] += scale * weights[row * d + k] }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Scatter-adds the output gradient into each table's sparse row gradients.
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        let width = outputGradient.columns
        let c = categoricalCount
        outputGradient.withUnsafeBufferPointer { gradient in
            for (f, table) in tables.enumerated() {
                let offset = offsets[f]
                if f < c {
                    for b in 0..<batch.size {
                        table.accumulateGradient(row: batch.ids[b * c + f], from: gradient, offset: b * width + offset)
                    }
                } else {
                    let m = f - c
                    let ends = batch.multiValuedOffsets[m]
                    for b in 0..<batch.size {
                        let count = ends[b + 1] - ends[b]
                        guard count > 0 else { continue }
                        for i in ends[b]..<ends[b + 1] {
                            table.accumulateGradient(row: batch.multiValuedIDs[m][i], from: gradient,
                                                     offset: b * width + offset, scale: 1 / Float(count))
                        }
                    }
                }
            }
        }
    }
}
