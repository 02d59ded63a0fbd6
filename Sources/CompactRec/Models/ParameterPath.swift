import CompactRecData

/// The path names of a model's parameters: what checkpoints, weights files, model files and
/// exports key every tensor by, so that no file depends on the order a model lists them in.
///
/// - `embedding.<field>`: a field's embedding table (rows x width); `embedding.<field>.projection`
///   its map to the model's common width, `embedding.<field>.mlet` MLET's inner map, and a
///   search supernet's candidates and transforms below the same prefix.
/// - `linear.<field>`: a field's first-order weights (rows x 1); `linear.dense.weight`,
///   `linear.dense.bias` or `linear.bias` the dense weights and bias.
/// - `<mlp>.<i>.weight`, `.bias`, `.gamma`, `.beta`: layer `i` of an MLP (`mlp` for DeepFM's,
///   Wide & Deep's and DCN-v2's deep parts, `bottom_mlp` and `top_mlp` for DLRM's).
/// - `cross.<l>.weight`, `cross.<l>.bias`: DCN-v2's cross layer `l`.
/// - `embedding.<field>.quotient`, `embedding.<field>.remainder`: a field's two tables under the
///   quotient-remainder trick.
///
/// Field names come from the data; the prefixes keep them apart from the model's own names,
/// and `ModelFactory` refuses the rare field name that would still collide (a field called
/// `bias` in a model whose first-order bias is `linear.bias`).
public enum ParameterPath {
    /// The embedding table of `field`.
    public static func embedding(_ field: String) -> String { "embedding." + field }
    /// The first-order weights of `field`.
    public static func firstOrder(_ field: String) -> String { "linear." + field }
    /// The map of table `table` to the model's common width.
    public static func projection(ofTable table: String) -> String { table + ".projection" }
    /// The field whose embedding table is `name`, if it is one.
    public static func field(ofEmbedding name: String) -> String? {
        name.hasPrefix("embedding.") ? String(name.dropFirst("embedding.".count)) : nil
    }
    /// The field whose first-order weights are `name`, if they are.
    public static func field(ofFirstOrder name: String) -> String? {
        name.hasPrefix("linear.") ? String(name.dropFirst("linear.".count)) : nil
    }
}
