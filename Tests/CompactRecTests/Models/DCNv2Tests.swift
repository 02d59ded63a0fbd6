import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// DCN-v2's structure: its parameters, names and draw order, and that dense values reach the
/// cross network. Its backward pass is checked against finite differences in
/// `ModelGradientTests` (`dcnv2`, `dcnv2-mixed`, `dcnv2-mixed-no-dense`, `dcnv2-qr`), from the
/// models this suite builds.
@Suite struct DCNv2Tests {
    static let noDenseSchema = Schema(
        dense: [], categorical: ModelGradientTests.schema.categorical,
        multiValued: ModelGradientTests.schema.multiValued)

    static func configuration() -> ModelConfiguration {
        var configuration = ModelConfiguration(kind: .wd, dimension: 3)
        configuration.mlp = [6, 4]
        return configuration
    }

    /// The model named `name`, with random biases: zero biases put rows on a ReLU's kink, where
    /// no finite difference agrees with either one-sided derivative (see `ModelGradientTests`).
    static func model(_ name: String) -> DCNv2? {
        var random = SeededRandom(seed: 11)
        let cardinalities = ModelGradientTests.cardinalities
        let names = ModelGradientTests.schema.vocabularyFields
        let mixed = { (random: inout SeededRandom) in
            FullEmbedding(
                cardinalities: cardinalities, dimensions: [2, 3, 4, 5], categoricalCount: 3, names: names,
                standardDeviation: 0.5, random: &random)
        }
        let model: DCNv2
        switch name {
        case "dcnv2":
            model = DCNv2(
                schema: ModelGradientTests.schema, embedding: ModelGradientTests.embedding(dimension: 3, random: &random),
                configuration: configuration(), crossLayers: 2, random: &random)
        case "dcnv2-mixed":
            model = DCNv2(
                schema: ModelGradientTests.schema, embedding: mixed(&random), configuration: configuration(),
                crossLayers: 2, random: &random)
        case "dcnv2-mixed-no-dense":
            model = DCNv2(
                schema: noDenseSchema, embedding: mixed(&random), configuration: configuration(), crossLayers: 3,
                random: &random)
        default:
            return nil
        }
        for parameter in model.denseParameters where parameter.name.hasSuffix(".bias") {
            parameter.value = .uniform(rows: parameter.value.rows, columns: parameter.value.columns, limit: 0.1, random: &random)
        }
        return model
    }

    @Test func structureParameterNamesAndDrawOrder() throws {
        let model = try #require(Self.model("dcnv2-mixed"))
        // x_0 = 2 + 3 + 4 + 5 field values and 3 dense values.
        #expect(model.cross.width == 17 && model.cross.layerCount == 2 && model.mlp.inputs == 17)
        #expect(
            model.denseParameters.map(\.name) == [
                "cross.0.weight", "cross.0.bias", "cross.1.weight", "cross.1.bias",
                "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp.4.weight", "mlp.4.bias",
            ])
        #expect(model.sparseTables.count == 4 && model.sparseTables.allSatisfy { t in model.embedding.tables.contains { $0 === t } })
        #expect(model.trainingStates.isEmpty)
        let noDense = try #require(Self.model("dcnv2-mixed-no-dense"))
        #expect(noDense.cross.width == 14 && noDense.cross.layerCount == 3)

        // The cross layers draw first, then the MLP, from the generator after the embedding.
        var random = SeededRandom(seed: 3)
        let embedding = ModelGradientTests.embedding(dimension: 3, random: &random)
        var copy = random
        var configuration = Self.configuration()
        configuration.batchNorm = true
        configuration.dropout = 0.25
        let model2 = DCNv2(
            schema: ModelGradientTests.schema, embedding: embedding, configuration: configuration, crossLayers: 2,
            random: &random)
        let cross = CrossNetwork(width: 15, layers: 2, random: &copy)
        let mlp = MLP(inputs: 15, hidden: [6, 4], outputs: 1, batchNorm: true, dropout: 0.25, random: &copy)
        #expect(zip(model2.cross.parameters, cross.parameters).allSatisfy { $0.value == $1.value })
        #expect(zip(model2.mlp.parameters, mlp.parameters).allSatisfy { $0.value == $1.value && $0.name == $1.name })
        #expect(random.next() == copy.next())
        #expect(model2.trainingStates.count == mlp.states.count && !model2.trainingStates.isEmpty)

        model2.useThreads(2)
        #expect(model2.embedding.threads == 2 && model2.cross.threads == 2 && model2.mlp.threads == 2)
    }

    @Test func denseValuesEnterTheCrossNetwork() throws {
        let model = try #require(Self.model("dcnv2"))
        var batch = ModelGradientTests.batch()
        let before = model.forward(batch, training: false).values
        batch.dense[0, 2] += 0.5
        let after = model.forward(batch, training: false).values
        #expect(before[0] != after[0])
        #expect(before[1...] == after[1...])
    }
}
