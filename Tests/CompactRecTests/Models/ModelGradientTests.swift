import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Every model's hand-written backward pass against central finite differences of the real
/// training loss (mean sigmoid cross-entropy), for dense parameters and embedding rows.
@Suite struct ModelGradientTests {
    static let schema = Schema(dense: ["i1", "i2", "i3"], categorical: ["c1", "c2", "c3"], multiValued: ["tags"])
    static let cardinalities = [5, 4, 6, 5]

    /// A batch of 5 rows with repeated ids (so scatter-add merges rows) and a multi-valued field.
    static func batch() -> Batch {
        var random = SeededRandom(seed: 99)
        let dense = Matrix.uniform(rows: 5, columns: 3, limit: 1, random: &random)
        let ids: [UInt32] = [0, 1, 2, 3, 1, 5, 3, 1, 2, 0, 3, 4, 3, 2, 5]
        return Batch(
            labels: [1, 0, 0, 1, 1], dense: dense, ids: ids, categoricalCount: 3,
            multiValuedOffsets: [[0, 2, 2, 3, 6, 7]], multiValuedIDs: [[1, 4, 0, 2, 2, 3, 4]])
    }

    static func embedding(dimension: Int, random: inout SeededRandom) -> FullEmbedding {
        FullEmbedding(
            cardinalities: cardinalities, dimensions: cardinalities.map { _ in dimension }, categoricalCount: 3,
            names: schema.vocabularyFields, standardDeviation: 0.5, random: &random)
    }

    static func models() -> [(String, any CTRModel)] {
        var configuration = ModelConfiguration(kind: .deepfm, dimension: 3)
        configuration.mlp = [6, 4]
        configuration.bottomMLP = [5]
        configuration.topMLP = [4]
        var random = SeededRandom(seed: 5)
        var models: [(String, any CTRModel)] = []
        models.append(("lr", LogisticRegression(schema: schema, cardinalities: cardinalities, random: &random)))
        models.append(
            (
                "fm",
                FactorizationMachine(
                    schema: schema, cardinalities: cardinalities,
                    embedding: embedding(dimension: 3, random: &random), random: &random)
            ))
        models.append(
            (
                "wd",
                WideAndDeep(
                    schema: schema, cardinalities: cardinalities,
                    embedding: embedding(dimension: 3, random: &random), configuration: configuration, random: &random)
            ))
        models.append(
            (
                "deepfm",
                DeepFM(
                    schema: schema, cardinalities: cardinalities,
                    embedding: embedding(dimension: 3, random: &random), configuration: configuration, random: &random)
            ))
        models.append(
            (
                "dlrm",
                DLRM(
                    schema: schema, embedding: embedding(dimension: 3, random: &random),
                    configuration: configuration, random: &random)
            ))
        // DLRM on data without dense features: no bottom MLP, the fields' dots alone.
        let noDense = Schema(dense: [], categorical: schema.categorical, multiValued: schema.multiValued)
        models.append(
            (
                "dlrm-no-dense",
                DLRM(
                    schema: noDense, embedding: embedding(dimension: 3, random: &random),
                    configuration: configuration, random: &random)
            ))
        // Per-field widths: projected to d = 3 where the interaction needs equal widths (field
        // c2 has k = 3 already and keeps its rows unprojected), concatenated as-is in Wide & Deep.
        let widths = [2, 3, 4, 5]
        let projected = ProjectedEmbedding(
            cardinalities: cardinalities, widths: widths, dimension: 3, categoricalCount: 3,
            names: schema.vocabularyFields, standardDeviation: 0.5, random: &random)
        models.append(
            (
                "deepfm-projected",
                DeepFM(
                    schema: schema, cardinalities: cardinalities, embedding: projected,
                    configuration: configuration, random: &random)
            ))
        let mixed = FullEmbedding(
            cardinalities: cardinalities, dimensions: widths, categoricalCount: 3,
            names: schema.vocabularyFields, standardDeviation: 0.5, random: &random)
        models.append(
            (
                "wd-mixed",
                WideAndDeep(
                    schema: schema, cardinalities: cardinalities, embedding: mixed,
                    configuration: configuration, random: &random)
            ))
        // MLET: every field trained as a wider table (k > d) times a k x d map.
        let inner = [6, 7, 5, 8]
        let mlet = { (random: inout SeededRandom) in
            ProjectedEmbedding(
                cardinalities: cardinalities, widths: inner, dimension: 3, categoricalCount: 3,
                names: schema.vocabularyFields, standardDeviation: 0.5, random: &random)
        }
        models.append(
            ("fm-mlet", FactorizationMachine(schema: schema, cardinalities: cardinalities, embedding: mlet(&random), random: &random)))
        models.append(("dlrm-mlet", DLRM(schema: schema, embedding: mlet(&random), configuration: configuration, random: &random)))
        // MLET towards per-field widths: c1 has an inner map and a projection (k 6 -> 2 -> 3), c2
        // an inner map only (7 -> 3 = d), c3 a projection only (k = 2 = its width), tags neither.
        let mletMixed = MLETProjectedEmbedding(
            cardinalities: cardinalities, innerWidths: [6, 7, 2, 3], widths: [2, 3, 2, 3],
            dimension: 3, categoricalCount: 3, names: schema.vocabularyFields,
            standardDeviation: 0.5, random: &random)
        models.append(
            (
                "deepfm-mlet-widths",
                DeepFM(
                    schema: schema, cardinalities: cardinalities, embedding: mletMixed,
                    configuration: configuration, random: &random)
            ))
        // The quotient-remainder trick with c = 4: c1, c3 and tags split (ceil(n/4) + 4 rows),
        // c2's 4 values keep one plain table. The factors are redrawn wide (their initial 0.1
        // makes every product, and so every gradient, small enough to hide an error).
        let qr = { (random: inout SeededRandom) -> QuotientRemainderEmbedding in
            let layer = QuotientRemainderEmbedding(
                method: QuotientRemainderEmbeddingMethod(collisions: 4), cardinalities: cardinalities,
                dimension: 3, categoricalCount: 3, names: schema.vocabularyFields, random: &random)
            for table in layer.tables {
                for i in table.weights.indices { table.weights[i] = Float(random.nextGaussian()) * 0.7 }
            }
            return layer
        }
        models.append(
            ("fm-qr", FactorizationMachine(schema: schema, cardinalities: cardinalities, embedding: qr(&random), random: &random)))
        models.append(
            (
                "deepfm-qr",
                DeepFM(
                    schema: schema, cardinalities: cardinalities, embedding: qr(&random),
                    configuration: configuration, random: &random)
            ))
        // DCN-v2: the cross network over the fields' vectors and the dense values, then the MLP;
        // with fields of mixed widths, and without dense values.
        for name in ["dcnv2", "dcnv2-mixed", "dcnv2-mixed-no-dense"] {
            if let model = DCNv2Tests.model(name) { models.append((name, model)) }
        }
        models.append(
            (
                "dcnv2-qr",
                DCNv2(
                    schema: schema, embedding: qr(&random), configuration: configuration, crossLayers: 2,
                    random: &random)
            ))
        // Biases start at zero: a row whose hidden units are all zero then sits exactly on the
        // next ReLU's kink, where no finite difference agrees with either one-sided derivative.
        // Random biases move every model off its kinks.
        for (_, model) in models {
            for parameter in model.denseParameters where parameter.name.hasSuffix(".bias") {
                parameter.value = .uniform(rows: parameter.value.rows, columns: parameter.value.columns, limit: 0.1, random: &random)
            }
        }
        return models
    }

    /// Loss of the model on the batch, in Double.
    static func loss(_ model: any CTRModel, _ batch: Batch) -> Double {
        let logits = model.forward(batch, training: true)
        var total = 0.0
        for b in 0..<batch.size {
            let z = Double(logits[b, 0])
            let y = Double(batch.labels[b])
            total += max(z, 0) - z * y + log1p(exp(-abs(z)))
        }
        return total / Double(batch.size)
    }

    /// Whether the analytic derivative agrees with a central difference at any of a few steps
    /// (a ReLU pre-activation within the step of 0 makes a single step unreliable: the test
    /// batch has one at -0.0015; a wrong gradient agrees at none).
    static func agrees(analytic: Float, perturb: (Float) -> Void, restore: () -> Void, model: any CTRModel, batch: Batch) -> Bool {
        for h: Float in [1e-2, 3e-3, 1e-3, 3e-4] {
            perturb(h)
            let plus = loss(model, batch)
            perturb(-2 * h)
            let minus = loss(model, batch)
            restore()
            let numeric = (plus - minus) / Double(2 * h)
            if abs(Double(analytic) - numeric) <= 2e-2 * max(abs(numeric), abs(Double(analytic))) + 2e-4 { return true }
        }
        return false
    }

    @Test(arguments: [
        "lr", "fm", "wd", "deepfm", "dlrm", "dlrm-no-dense", "deepfm-projected", "wd-mixed", "fm-mlet", "dlrm-mlet",
        "deepfm-mlet-widths", "fm-qr", "deepfm-qr", "dcnv2", "dcnv2-mixed", "dcnv2-mixed-no-dense", "dcnv2-qr",
    ])
    func gradientsMatchFiniteDifferences(name: String) throws {
        let model = try #require(Self.models().first { $0.0 == name }?.1)
        let batch = Self.batch()
        let criterion = SigmoidCrossEntropy()
        let logits = model.forward(batch, training: true)
        for table in model.sparseTables { table.zeroGradient() }
        for parameter in model.denseParameters { parameter.zeroGradient() }
        model.backward(criterion.gradient(logits: logits, labels: batch.labels), batch: batch)

        var failures: [String] = []
        var checked = 0
        for parameter in model.denseParameters {
            let gradient = parameter.gradient
            let count = parameter.value.count
            // Every entry: a sampled stride can meet only one column of a matrix.
            for index in 0..<count {
                let (r, c) = (index / parameter.value.columns, index % parameter.value.columns)
                let original = parameter.value[r, c]
                checked += 1
                if !Self.agrees(
                    analytic: gradient[r, c], perturb: { parameter.value[r, c] += $0 },
                    restore: { parameter.value[r, c] = original }, model: model, batch: batch)
                {
                    failures.append("\(parameter.name)[\(r), \(c)]: analytic \(gradient[r, c])")
                }
            }
        }
        for table in model.sparseTables {
            let touched = table.touchedRows
            let gradients = table.gradientRows
            #expect(!touched.isEmpty, "\(table.name): the batch touches rows")
            for (slot, row) in touched.enumerated() {
                for k in 0..<table.dimension {
                    let index = Int(row) * table.dimension + k
                    let original = table.weights[index]
                    checked += 1
                    if !Self.agrees(
                        analytic: gradients[slot * table.dimension + k], perturb: { table.weights[index] += $0 },
                        restore: { table.weights[index] = original }, model: model, batch: batch)
                    {
                        failures.append("\(table.name)[\(row), \(k)]: analytic \(gradients[slot * table.dimension + k])")
                    }
                }
            }
            // Rows the batch did not use have no gradient entry.
            for row in 0..<table.rows where !touched.contains(UInt32(row)) {
                let original = table.weights[row * table.dimension]
                table.weights[row * table.dimension] = original + 0.1
                let changed = Self.loss(model, batch)
                table.weights[row * table.dimension] = original
                #expect(abs(changed - Self.loss(model, batch)) < 1e-9, "\(table.name) row \(row) is unused but changes the loss")
            }
        }
        #expect(checked > 10)
        #expect(failures.isEmpty, "\(name): \(failures.prefix(8))")
    }
}
