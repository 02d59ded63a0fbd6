import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// MLET: the wide table and its map train together, and fold into a plain model of width d.
@Suite struct MLETTests {
    static func configuration(_ kind: ModelKind, store: ColumnStore, inner: Int?) -> ModelConfiguration {
        var configuration = ModelConfiguration(kind: kind, dimension: 4)
        configuration.mlp = [16, 8]
        configuration.bottomMLP = [8]
        configuration.topMLP = [8]
        if let inner {
            configuration.embedding = .mlet(
                MLETEmbeddingMethod(innerWidths: store.manifest.fields.compactMap(\.cardinality).map { _ in inner }))
        }
        return configuration
    }

    /// Both models give the same logits (within 1e-5) on the first 1,024 test rows, and the
    /// logits vary (the comparison is not between constants).
    static func expectSamePredictions(_ trained: any CTRModel, _ inferred: any CTRModel, store: ColumnStore) {
        var loader = BatchLoader(store: store, part: .test, batchSize: 1024)
        var batch = Batch(schema: store.schema)
        let loaded = loader.next(into: &batch)
        #expect(loaded)
        let expected = trained.forward(batch, training: false).values
        let actual = inferred.forward(batch, training: false).values
        let worst = zip(expected, actual).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "largest logit difference \(worst)")
        #expect(Set(expected).count > 100, "the logits are not constant")
    }

    /// After some training (so the maps are no longer their initial values), the folded model
    /// predicts what the trained one does, and is the same kind of model as a plain one of
    /// width d: same configuration, same weight shapes, same file size to the byte.
    @Test(arguments: [ModelKind.fm, .wd, .deepfm, .dlrm])
    func foldedModelPredictsAsTheTrainedOneAndIsAPlainModel(kind: ModelKind) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let configuration = Self.configuration(kind, store: store, inner: 32)
        let model = try ModelFactory.make(configuration, store: store, seed: 3)
        #expect(model.embedding is ProjectedEmbedding)
        var options = TrainingOptions()
        (options.batchSize, options.epochs, options.threads, options.learningRate) = (512, 1, 2, 3e-3)
        let trainer = Trainer(model: model, configuration: configuration, store: store, options: options)
        let report = try trainer.fit()

        let form = InferenceModel(model, configuration: configuration)
        var plainConfiguration = configuration
        plainConfiguration.embedding = .plainTables
        #expect(form.configuration == plainConfiguration, "the folded model is a plain model of width d")
        let folded = try form.makeModel(store: store, source: "test")
        #expect(folded.embedding is FullEmbedding)
        #expect(folded.embeddingParameterCount == store.manifest.fields.compactMap(\.cardinality).reduce(0, +) * 4)
        #expect(report.embeddingParameters == folded.embeddingParameterCount)
        #expect(report.trainingEmbeddingParameters == model.embeddingParameterCount)
        #expect(model.embeddingParameterCount > 8 * folded.embeddingParameterCount, "k = 32 trains 8x wider tables plus the maps")

        Self.expectSamePredictions(model, folded, store: store)

        // Byte for byte the file of a plain model of width d with the same header.
        let plain = try ModelFactory.make(plainConfiguration, store: store, seed: 9)
        #expect(ModelWeights(plain).hasShapes(of: form.weights))
        let run = RunConfiguration(model: plainConfiguration, options: options, dataset: DatasetIdentity(store))
        let validation = report.bestValidation
        try WeightsFile(configuration: run, step: 7, validation: validation, weights: form.weights).write(to: directory + "/mlet.weights")
        try WeightsFile(configuration: run, step: 7, validation: validation, weights: ModelWeights(plain)).write(
            to: directory + "/plain.weights")
        let sizes = try ["mlet", "plain"].map {
            try FileManager.default.attributesOfItem(atPath: directory + "/\($0).weights")[.size] as? Int
        }
        #expect(sizes[0] != nil && sizes[0] == sizes[1])
    }

    /// Training writes the folded form to best.weights; `evaluate`'s path (a model built from the
    /// file's header) reproduces the run's test metrics.
    @Test func bestWeightsHoldTheFoldedModel() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let model = Self.configuration(.deepfm, store: store, inner: 16)
        var options = TrainingOptions()
        (options.batchSize, options.epochs, options.threads, options.evaluateEvery) = (512, 1, 1, 10)
        let configuration = RunConfiguration(model: model, options: options, dataset: DatasetIdentity(store))
        let run = TrainingRun(directory: directory + "/run", configuration: configuration, resume: false)
        let report = try Trainer(
            model: ModelFactory.make(model, store: store, seed: 1), configuration: model, store: store, options: options
        )
        .fit(run: run)
        let file = try WeightsFile.read(from: run.bestWeightsPath)
        #expect(file.header.configuration.model.embedding == .plainTables)
        let loaded = try ModelFactory.make(file.header.configuration.model, store: store, seed: 5)
        loaded.useThreads(1)
        try file.weights.restore(into: loaded, source: run.bestWeightsPath)
        let test = try Evaluation.measure(loaded, on: store, part: .test, batchSize: 512)
        #expect(test == report.test)
        let checkpoint = try Checkpoint.read(from: run.checkpointPath)
        #expect(checkpoint.configuration.model.embedding.innerWidths != nil, "the checkpoint keeps the wide tables to resume from")
        #expect(checkpoint.weights.tables.first?.dimension == 16)
    }

    /// The initialisation starts the product at a plain table's scale whatever k is.
    @Test(arguments: [8, 64, 256])
    func initialProductHasThePlainTablesScale(inner: Int) {
        var random = SeededRandom(seed: 11)
        let layer = ProjectedEmbedding(
            cardinalities: [2_000], widths: [inner], dimension: 4, categoricalCount: 1,
            names: ["c"], standardDeviation: 0.01, random: &random)
        let folded = layer.inferenceForm().tables[0].weights
        let variance = folded.reduce(0) { $0 + Double($1) * Double($1) } / Double(folded.count)
        // 8,000 entries: the sample standard deviation is within a few percent of 0.01.
        #expect(abs(variance.squareRoot() - 0.01) < 0.0015, "standard deviation \(variance.squareRoot())")
    }

    @Test func factoryRefusesWhatMLETCannotDo() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var narrow = Self.configuration(.deepfm, store: store, inner: 2)
        #expect(refusedSetting { try ModelFactory.make(narrow, store: store, seed: 1) } == .innerDims, "k = 2 is below d = 4")
        narrow = Self.configuration(.lr, store: store, inner: 16)
        #expect(refusedSetting { try ModelFactory.make(narrow, store: store, seed: 1) } == .embedding, "LR has no embeddings")
        // With per-field widths: every inner width must reach its field's width, and Wide & Deep
        // (which has no projection to a common width) is refused.
        var both = Self.configuration(.deepfm, store: store, inner: 16)
        let fieldCount = store.manifest.fields.compactMap(\.cardinality).count
        let inner = Array(repeating: 16, count: fieldCount)
        both.embedding = .mlet(MLETEmbeddingMethod(innerWidths: inner, widths: (0..<fieldCount).map { $0 == 0 ? 24 : 2 }))
        #expect(refusedSetting { try ModelFactory.make(both, store: store, seed: 1) } == .innerDims, "k = 16 is below 24")
        both.embedding = .mlet(MLETEmbeddingMethod(innerWidths: inner, widths: (0..<fieldCount).map { $0 == 0 ? 16 : 2 }))
        #expect(try ModelFactory.make(both, store: store, seed: 1).embedding is MLETProjectedEmbedding)
        both.kind = .wd
        #expect(refusedSetting { try ModelFactory.make(both, store: store, seed: 1) } == .dims, "W&D has no projection")
    }

    /// MLET towards per-field widths (AutoDim's choice retrained with wide tables): after some
    /// training, the inference form predicts what the trained model does and is the plain model
    /// of those widths (narrow tables with projections, or folded n x d where that is smaller).
    @Test(arguments: [ModelKind.fm, .deepfm, .dlrm])
    func mixedWidthsFoldIntoThePlainModelOfThoseWidths(kind: ModelKind) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let cardinalities = store.manifest.fields.compactMap(\.cardinality)
        var configuration = Self.configuration(kind, store: store, inner: 16)
        let chosen = cardinalities.indices.map { [1, 2, 4, 8][$0 % 4] }
        configuration.embedding = configuration.embedding.retargeted(to: chosen)
        let model = try ModelFactory.make(configuration, store: store, seed: 3)
        let layer = try #require(model.embedding as? MLETProjectedEmbedding)
        #expect(layer.tables.allSatisfy { $0.dimension == 16 }, "training holds the wide tables")
        var options = TrainingOptions()
        (options.batchSize, options.epochs, options.threads, options.learningRate) = (512, 1, 2, 3e-3)
        let report = try Trainer(model: model, configuration: configuration, store: store, options: options).fit()

        let form = InferenceModel(model, configuration: configuration)
        // Each field keeps its width and projection where n d_f + d_f d < n d, else is folded to d.
        let expectedWidths = zip(cardinalities, chosen).map { n, width in
            width == 4 || n * width + width * 4 < n * 4 ? width : 4
        }
        var plainConfiguration = configuration
        plainConfiguration.embedding = .plain(PlainEmbeddingMethod(widths: expectedWidths))
        #expect(form.configuration == plainConfiguration, "the inference model is the plain model of the chosen widths")
        #expect(expectedWidths.contains(1) && expectedWidths.contains(2), "some narrow fields keep their projections")
        let served = try form.makeModel(store: store, source: "test")
        #expect(served.embedding is ProjectedEmbedding)
        #expect(served.embeddingParameterCount == form.embeddingParameterCount)
        #expect(report.embeddingParameters == form.embeddingParameterCount)
        #expect(model.embeddingParameterCount > 3 * form.embeddingParameterCount, "k = 16 trains wider tables")

        Self.expectSamePredictions(model, served, store: store)
    }

    /// The two factors start so that their product has a plain table's scale (the expected
    /// variance is exactly standardDeviation^2; 500 rows x 32 columns measure it to about 10%).
    @Test func mixedWidthsStartAtThePlainTablesScale() {
        var random = SeededRandom(seed: 12)
        let (rows, d) = (500, 32)
        let layer = MLETProjectedEmbedding(
            cardinalities: [rows, rows], innerWidths: [64, 64], widths: [8, 2], dimension: d,
            categoricalCount: 2, names: ["a", "b"], standardDeviation: 0.01, random: &random)
        let ids = (0..<rows).flatMap { [UInt32($0), UInt32($0)] }
        let batch = Batch(labels: [Float](repeating: 0, count: rows), dense: Matrix(rows: rows, columns: 0), ids: ids, categoricalCount: 2)
        let output = layer.forward(batch, training: false)
        for f in 0..<2 {
            let values = (0..<rows).flatMap { b in (0..<d).map { Double(output[b, f * d + $0]) } }
            let deviation = (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
            #expect(abs(deviation - 0.01) < 0.0025, "field \(f): standard deviation \(deviation)")
        }
    }

    /// The per-distinct-row path (the default for single-valued fields) computes what the
    /// per-batch-row path (gradient-checked in ModelGradientTests) does: vectors, projection
    /// gradients and table row gradients, with repeated ids and a field with k = d; also through
    /// `MLETProjectedEmbedding`'s two factors per field (inner map and projection, a projection
    /// only, an inner map only).
    @Test(arguments: [false, true])
    func distinctRowPathEqualsBatchRowPath(fieldWidths: Bool) throws {
        func layer(distinctRows: Bool) -> any EmbeddingLayer {
            var random = SeededRandom(seed: 21)
            if fieldWidths {
                let layer = MLETProjectedEmbedding(
                    cardinalities: [50, 7, 300], innerWidths: [16, 2, 24], widths: [2, 2, 4], dimension: 4,
                    categoricalCount: 3, names: ["a", "b", "c"], standardDeviation: 0.3, random: &random)
                #expect(layer.product.worksPerDistinctRow)
                layer.product.worksPerDistinctRow = distinctRows
                return layer
            }
            let layer = ProjectedEmbedding(
                cardinalities: [50, 7, 300], widths: [16, 4, 24], dimension: 4, categoricalCount: 3,
                names: ["a", "b", "c"], standardDeviation: 0.3, random: &random)
            #expect(layer.worksPerDistinctRow)
            layer.worksPerDistinctRow = distinctRows
            return layer
        }
        let (fast, reference) = (layer(distinctRows: true), layer(distinctRows: false))
        var random = SeededRandom(seed: 5)
        let size = 64
        // Few distinct ids (a tenth of the table on even entries), so rows repeat.
        let cardinalities: [UInt64] = [50, 7, 300]
        var ids: [UInt32] = []
        for i in 0..<size * 3 {
            let range = i % 2 == 0 ? max(cardinalities[i % 3] / 10, 1) : cardinalities[i % 3]
            ids.append(UInt32(random.next() % range))
        }
        let batch = Batch(labels: [Float](repeating: 0, count: size), dense: Matrix(rows: size, columns: 0), ids: ids, categoricalCount: 3)
        for threads in [1, 2] {
            (fast.threads, reference.threads) = (threads, threads)
            let a = fast.forward(batch, training: true).values
            let b = reference.forward(batch, training: true).values
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 }, "vectors")
            let gradient = Matrix.uniform(rows: size, columns: 12, limit: 1, random: &random)
            for layer in [fast, reference] {
                for table in layer.tables { table.zeroGradient() }
                for parameter in layer.denseParameters { parameter.zeroGradient() }
                layer.backward(gradient, batch: batch)
            }
            for (p, q) in zip(fast.denseParameters, reference.denseParameters) {
                #expect(zip(p.gradient.values, q.gradient.values).allSatisfy { abs($0 - $1) <= 1e-4 }, "\(p.name)")
            }
            for (t, u) in zip(fast.tables, reference.tables) {
                #expect(Set(t.touchedRows) == Set(u.touchedRows) && !t.touchedRows.isEmpty)
                for (slot, row) in t.touchedRows.enumerated() {
                    let other = try #require(u.touchedRows.firstIndex(of: row))
                    let mine = t.gradientRows[slot * t.dimension..<(slot + 1) * t.dimension]
                    let theirs = u.gradientRows[other * u.dimension..<(other + 1) * u.dimension]
                    #expect(zip(mine, theirs).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(t.name) row \(row)")
                }
            }
        }
    }
}
