import CompactRecData

/// The plain method's settings (FDE, mixed dimensions): one table per field, of the model's
/// width d or of per-field widths.
///
/// Where the model's interaction needs equal widths (FM, DeepFM, DLRM) and a field's width
/// differs from d, the field's table is followed by a learned projection to d
/// (`ProjectedEmbedding`); Wide & Deep and DCN-v2 concatenate the fields as they are
/// (`FullEmbedding`).
public struct PlainEmbeddingMethod: EmbeddingMethodDefinition, Codable, Equatable {
    /// Per-field widths in schema order (nil: d for every field).
    public var widths: [Int]?

    /// Tables of the model's width d, or of `widths` per field.
    public init(widths: [Int]? = nil) { self.widths = widths }

    /// Checks one positive width per field.
    public func validate(in context: EmbeddingContext) throws(ModelError) {
        try checkPerField(widths, setting: .dims, in: context)
    }

    /// Plain tables, projected to d where the model needs equal widths and a field's differs.
    public func makeLayer(in context: EmbeddingContext, random: inout SeededRandom) -> any EmbeddingLayer {
        let widths = widths ?? context.cardinalities.map { _ in context.dimension }
        if context.model.needsEqualWidths && widths.contains(where: { $0 != context.dimension }) {
            return ProjectedEmbedding(
                cardinalities: context.cardinalities, widths: widths, dimension: context.dimension,
                categoricalCount: context.categoricalCount, names: context.tableNames, random: &random)
        }
        return FullEmbedding(
            cardinalities: context.cardinalities, dimensions: widths, categoricalCount: context.categoricalCount,
            names: context.tableNames, random: &random)
    }

    /// The per-field widths.
    public var fieldWidths: [Int]? { widths }

    /// "plain", or "plain, per-field widths".
    public var summary: String { widths == nil ? "plain" : "plain, per-field widths" }
}
