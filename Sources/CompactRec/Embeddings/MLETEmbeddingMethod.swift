import CompactRecData

/// MLET's settings: each field is trained as an n x k table followed by a k x d_f linear map,
/// and folded into one n x d_f table for inference (d_f = d, or the field's width in `widths`).
///
/// With per-field widths in a model that needs equal widths, the d_f x d projection follows
/// the map (`MLETProjectedEmbedding`); without, the layer is a `ProjectedEmbedding` of widths k.
public struct MLETEmbeddingMethod: EmbeddingMethodDefinition, Codable, Equatable {
    /// Per field, the inner width k (at least the width it trains towards).
    public var innerWidths: [Int]
    /// Per field, the width it trains towards (nil: d for every field).
    public var widths: [Int]?

    /// MLET with inner widths `innerWidths`, towards `widths` (nil: the model's d).
    public init(innerWidths: [Int], widths: [Int]? = nil) {
        self.innerWidths = innerWidths
        self.widths = widths
    }

    /// Checks the model has embeddings, one inner width per field, each at least its target.
    public func validate(in context: EmbeddingContext) throws(ModelError) {
        guard context.model != .lr else {
            throw .invalidSetting(
                .embedding,
                reason: "logistic regression has no embeddings for MLET to train; "
                    + "use the fm, wd, deepfm, dlrm or dcnv2 model")
        }
        try checkPerField(widths, setting: .dims, in: context)
        try checkPerField(innerWidths, setting: .innerDims, in: context)
        if widths != nil, !context.model.needsEqualWidths {
            throw .invalidSetting(
                .dims,
                reason: "per-field widths with MLET need a model that projects every field to d "
                    + "(fm, deepfm, dlrm); \(context.model.rawValue) concatenates fields of their own widths: "
                    + "train it with plain tables")
        }
        let targets = widths ?? context.fields.map { _ in context.dimension }
        if let f = context.fields.indices.first(where: { innerWidths[$0] < targets[$0] }) {
            let target = widths == nil ? "dim (\(targets[f]))" : "its width in dims (\(targets[f]))"
            throw .invalidSetting(
                .innerDims,
                reason: "MLET's inner width of \(context.fields[f]) (\(innerWidths[f])) is below "
                    + "\(target); raise inner_dim, or give \(context.fields[f]) a wider one in inner_dims")
        }
    }

    /// The wide tables and their maps.
    public func makeLayer(in context: EmbeddingContext, random: inout SeededRandom) -> any EmbeddingLayer {
        if let widths {
            return MLETProjectedEmbedding(
                cardinalities: context.cardinalities, innerWidths: innerWidths, widths: widths,
                dimension: context.dimension, categoricalCount: context.categoricalCount,
                names: context.tableNames, random: &random)
        }
        return ProjectedEmbedding(
            cardinalities: context.cardinalities, widths: innerWidths, dimension: context.dimension,
            categoricalCount: context.categoricalCount, names: context.tableNames, random: &random)
    }

    /// The widths it trains towards.
    public var fieldWidths: [Int]? { widths }

    /// "mlet k = 64" (every distinct k), and "per-field widths" when set.
    public var summary: String {
        "mlet k = \(Set(innerWidths).sorted().map(String.init).joined(separator: "/"))" + (widths == nil ? "" : ", per-field widths")
    }
}
