import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct DimensionSearchTests {
    typealias Models = ModelGradientTests

    /// A DeepFM on AutoDim's supernet over candidates {1, 2, 3} (shared or separate tables,
    /// linear or zero-padding unification, any scale of the mixed vectors), with fixed Gumbel
    /// noise and random alpha, biases and (learned scale) scales and shifts.
    static func supernet(
        tables: DimensionSearchEmbedding.CandidateTables, unification: DimensionSearchEmbedding.Unification,
        mixedScale: DimensionSearchEmbedding.MixedScale = .unit
    ) -> (DeepFM, DimensionSearchEmbedding) {
        var configuration = ModelConfiguration(kind: .deepfm, dimension: 3)
        configuration.mlp = [5]
        var random = SeededRandom(seed: 21)
        let embedding = DimensionSearchEmbedding(
            cardinalities: Models.cardinalities, candidates: [1, 2, 3], tables: tables,
            unification: unification, mixedScale: mixedScale, categoricalCount: 3,
            names: Models.schema.vocabularyFields, seed: 4, random: &random)
        for table in embedding.tables {
            for i in table.weights.indices { table.weights[i] = Float(random.nextGaussian()) * 0.5 }
        }
        embedding.architecture.value = .uniform(rows: 4, columns: 3, limit: 1, random: &random)
        embedding.temperature = 0.7
        let model = DeepFM(
            schema: Models.schema, cardinalities: Models.cardinalities, embedding: embedding,
            configuration: configuration, random: &random)
        for parameter in model.denseParameters where parameter.name.hasSuffix(".bias") || parameter.name.hasSuffix(".mixed.shift") {
            parameter.value = .uniform(rows: parameter.value.rows, columns: parameter.value.columns, limit: 0.3, random: &random)
        }
        for parameter in embedding.mixedScales where mixedScale == .learned {
            for j in 0..<parameter.value.columns { parameter.value[0, j] = 1 + Float(random.nextGaussian()) * 0.3 }
        }
        // Draw one noise sample, then keep it for every loss of the check.
        _ = model.forward(Models.batch(), training: true)
        embedding.reusesNoise = true
        return (model, embedding)
    }

    @Test(arguments: [
        (
            DimensionSearchEmbedding.CandidateTables.shared, DimensionSearchEmbedding.Unification.linear,
            DimensionSearchEmbedding.MixedScale.unit
        ),
        (.separate, .linear, .unit), (.shared, .zeroPadding, .unit), (.shared, .linear, .learned), (.shared, .linear, .fixed(0.05)),
    ])
    func gradientsOfWeightsRowsAndAlphaMatchFiniteDifferences(
        tables: DimensionSearchEmbedding.CandidateTables,
        unification: DimensionSearchEmbedding.Unification,
        mixedScale: DimensionSearchEmbedding.MixedScale
    ) {
        let (model, embedding) = Self.supernet(tables: tables, unification: unification, mixedScale: mixedScale)
        let batch = Models.batch()
        let logits = model.forward(batch, training: true)
        for table in model.sparseTables { table.zeroGradient() }
        for parameter in model.denseParameters + [embedding.architecture] { parameter.zeroGradient() }
        model.backward(SigmoidCrossEntropy().gradient(logits: logits, labels: batch.labels), batch: batch)
        var failures: [String] = []
        var checked = 0
        for parameter in [embedding.architecture] + embedding.denseParameters {
            let count = parameter.value.count
            for index in stride(from: 0, to: count, by: parameter === embedding.architecture ? 1 : max(1, count / 5)) {
                let (r, c) = (index / parameter.value.columns, index % parameter.value.columns)
                let original = parameter.value[r, c]
                checked += 1
                if !Models.agrees(
                    analytic: parameter.gradient[r, c], perturb: { parameter.value[r, c] += $0 },
                    restore: { parameter.value[r, c] = original }, model: model, batch: batch)
                {
                    failures.append("\(parameter.name)[\(r), \(c)]: analytic \(parameter.gradient[r, c])")
                }
            }
        }
        for table in embedding.tables {
            for (slot, row) in table.touchedRows.enumerated() {
                for k in 0..<table.dimension {
                    let index = Int(row) * table.dimension + k
                    let original = table.weights[index]
                    checked += 1
                    if !Models.agrees(
                        analytic: table.gradientRows[slot * table.dimension + k], perturb: { table.weights[index] += $0 },
                        restore: { table.weights[index] = original }, model: model, batch: batch)
                    {
                        failures.append("\(table.name)[\(row), \(k)]")
                    }
                }
            }
        }
        #expect(checked > 40)
        #expect(embedding.architecture.gradient.values.contains { $0 != 0 })
        #expect(embedding.mixedScales.count == (mixedScale == .unit ? 0 : 4) && embedding.mixedShifts.count == embedding.mixedScales.count)
        #expect(failures.isEmpty, "\(tables) \(unification) \(mixedScale) scale: \(failures.prefix(8))")
    }

    @Test(arguments: [DimensionSearchEmbedding.MixedScale.learned, .fixed(0.05)])
    func scaledMixedVectorsAreTheUnitVectorsTimesTheScalePlusTheShift(mixedScale: DimensionSearchEmbedding.MixedScale) {
        let (plainModel, plain) = Self.supernet(tables: .shared, unification: .linear)
        let (scaledModel, scaled) = Self.supernet(tables: .shared, unification: .linear, mixedScale: mixedScale)
        // Only the learned scale and shift are weights for the optimiser to move.
        #expect(plain.denseParameters.count + (mixedScale == .learned ? 8 : 0) == scaled.denseParameters.count)
        #expect(
            scaled.denseParameters.contains { $0.name == "\(Models.schema.vocabularyFields[2]).mixed.scale" } == (mixedScale == .learned))
        let batch = Models.batch()
        for training in [true, false] {
            _ = plainModel.forward(batch, training: training)
            _ = scaledModel.forward(batch, training: training)
            let mixed = plain.forward(batch, training: training)
            let output = scaled.forward(batch, training: training)
            var largest: Float = 0
            for r in 0..<batch.size {
                for f in 0..<4 {
                    for j in 0..<3 {
                        let expected = mixed[r, f * 3 + j] * scaled.mixedScales[f].value[0, j] + scaled.mixedShifts[f].value[0, j]
                        largest = max(largest, abs(output[r, f * 3 + j] - expected))
                    }
                }
            }
            #expect(largest < 1e-5, "training \(training): differs by \(largest)")
        }
        let fresh = DimensionSearchEmbedding(
            cardinalities: Models.cardinalities, candidates: [1, 3], mixedScale: mixedScale, categoricalCount: 3,
            names: Models.schema.vocabularyFields, seed: 1, random: &Self.unused)
        let start: Float = mixedScale == .learned ? DimensionSearchEmbedding.tableInitialScale : 0.05
        #expect(fresh.mixedScales.allSatisfy { $0.value.values == [Float](repeating: start, count: 3) })
        #expect(fresh.mixedShifts.allSatisfy { $0.value.values.allSatisfy { $0 == 0 } })
    }

    @Test func mixedScaleReadsUnitLearnedOrAPositiveFactorAndRoundTrips() throws {
        typealias Scale = DimensionSearchEmbedding.MixedScale
        #expect(Scale("unit") == .unit && Scale("learned") == .learned && Scale("0.05") == .fixed(0.05))
        for bad in ["", "0", "-0.1", "nan", "inf", "table"] { #expect(Scale(bad) == nil, "\(bad)") }
        var options = DimensionSearchOptions()
        for scale in [Scale.unit, .learned, .fixed(0.05)] {
            options.mixedScale = scale
            let data = try JSONEncoder().encode(options)
            #expect(String(decoding: data, as: UTF8.self).contains("\"mixedScale\":\"\(scale)\""))
            #expect(try JSONDecoder().decode(DimensionSearchOptions.self, from: data) == options)
        }
        let corrupt = Data(#"{"mixedScale": "0"}"#.utf8)
        #expect {
            try JSONDecoder().decode([String: Scale].self, from: corrupt)
        } throws: { error in
            guard case .dataCorrupted(let context) = error as? DecodingError else { return false }
            return context.codingPath.map(\.stringValue) == ["mixedScale"]
                && context.debugDescription.hasSuffix("a positive number, not 0")
        }
    }

    @Test(arguments: [DimensionSearchEmbedding.MixedScale.unit, .fixed(0.05), .learned])
    func architectureStepComputesTheSameAlphaGradientWithoutWeightGradients(mixedScale: DimensionSearchEmbedding.MixedScale) {
        let (model, embedding) = Self.supernet(tables: .shared, unification: .linear, mixedScale: mixedScale)
        let batch = Models.batch()
        func alphaGradient(weights: Bool) -> Matrix {
            for parameter in model.denseParameters {
                parameter.requiresGradient = weights
                parameter.zeroGradient()
            }
            for table in model.sparseTables {
                table.requiresGradient = weights
                table.zeroGradient()
            }
            embedding.architecture.zeroGradient()
            let logits = model.forward(batch, training: true)
            model.backward(SigmoidCrossEntropy().gradient(logits: logits, labels: batch.labels), batch: batch)
            return embedding.architecture.gradient
        }
        let full = alphaGradient(weights: true)
        let alphaOnly = alphaGradient(weights: false)
        #expect(TestMatrix.identical(full, alphaOnly))
        #expect(model.denseParameters.allSatisfy { $0.gradient.values.allSatisfy { $0 == 0 } })
        #expect(model.sparseTables.allSatisfy { $0.touchedRows.isEmpty })
    }

    @Test func inferenceFormTabulatesTheEvaluationVectors() {
        for (tables, mixedScale) in [
            (DimensionSearchEmbedding.CandidateTables.shared, DimensionSearchEmbedding.MixedScale.unit),
            (.separate, .unit), (.shared, .learned), (.shared, .fixed(0.05)),
        ] {
            let (model, embedding) = Self.supernet(tables: tables, unification: .linear, mixedScale: mixedScale)
            // Move the running statistics off their initial values first.
            for _ in 0..<3 { _ = model.forward(Models.batch(), training: true) }
            let batch = Models.batch()
            let vectors = embedding.forward(batch, training: false)
            let form = embedding.inferenceForm()
            #expect(form.widths == [3, 3, 3, 3] && form.projections.isEmpty)
            let plain = FullEmbedding(
                cardinalities: Models.cardinalities, dimensions: form.widths, categoricalCount: 3,
                names: Models.schema.vocabularyFields, random: &Self.unused)
            for (target, source) in zip(plain.tables, form.tables) { target.weights = source.weights }
            let tabulated = plain.forward(batch, training: false)
            // Exact for every single-valued field and every non-empty bag of the multi-valued
            // one (the mean of affine images is the affine image of the mean); an empty bag's
            // zero vector is the one case a table cannot hold (the supernet maps it to its
            // affine maps' constant), so row 1, whose bag is empty, is left out of field 4.
            var largest: Float = 0
            for r in 0..<batch.size {
                for c in 0..<vectors.columns where c < 9 || r != 1 {
                    largest = max(largest, abs(vectors[r, c] - tabulated[r, c]))
                }
            }
            #expect(largest < 1e-5, "\(tables) \(mixedScale) scale: tabulated vectors differ by \(largest)")
        }
    }

    nonisolated(unsafe) static var unused = SeededRandom(seed: 0)

    @Test func mixedDimensionsFollowCardinalityToTheMinusPointThreeWithinTheBudget() {
        let cardinalities = [1_000_000, 10_000, 100, 10]
        let budget = 4_000_000
        let widths = DimensionBaselines.mixedDimensions(cardinalities: cardinalities, width: 32, budget: budget)
        #expect(widths == widths.sorted(), "rarer-valued (larger) fields get narrower rows: \(widths)")
        #expect(DimensionBaselines.parameterCount(cardinalities: cardinalities, widths: widths, width: 32) <= budget)
        // 4M over a 1M-row field leaves it about 3 columns; its ratio to the 10,000-row field's
        // width is (100)^-0.3 = 0.25 before rounding and capping.
        #expect(widths[0] >= 2 && widths[0] <= 4)
        #expect(abs(Double(widths[0]) / Double(widths[1]) - 0.25) < 0.1)
        // A budget of a uniform width 32 gives width 32 everywhere.
        let full = DimensionBaselines.parameterCount(cardinalities: cardinalities, widths: [32, 32, 32, 32], width: 32)
        #expect(DimensionBaselines.mixedDimensions(cardinalities: cardinalities, width: 32, budget: full) == [32, 32, 32, 32])
    }

    @Test func randomSearchDrawsCandidatesReproducibly() {
        let three = DimensionBaselines.randomDimensions(fields: 26, candidates: [2, 8, 16, 24, 32], trials: 3, seed: 5)
        let five = DimensionBaselines.randomDimensions(fields: 26, candidates: [2, 8, 16, 24, 32], trials: 5, seed: 5)
        #expect(Array(five.prefix(3)) == three)
        #expect(three.allSatisfy { $0.count == 26 && $0.allSatisfy { [2, 8, 16, 24, 32].contains($0) } })
        #expect(Set(three.flatMap { $0 }).count == 5)
        #expect(three[0] != three[1])
        // Parameter counts: tables plus projections where the width differs.
        #expect(DimensionBaselines.parameterCount(cardinalities: [10, 5], widths: [2, 4], width: 4) == 10 * 2 + 2 * 4 + 5 * 4)
        #expect(DimensionBaselines.parameterCount(cardinalities: [10, 5], widths: [2, 4], width: 4, projected: false) == 40)
    }

    /// Two epochs of batch 256 over candidates {2, 4, 8}, alpha at lr 0.05.
    static func smallSearch(levels: DimensionSearchOptions.Levels) -> (TrainingOptions, DimensionSearchOptions) {
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 256
        options.threads = 2
        var searchOptions = DimensionSearchOptions()
        searchOptions.candidates = [2, 4, 8]
        searchOptions.architectureLearningRate = 0.05
        searchOptions.levels = levels
        return (options, searchOptions)
    }

    @Test(arguments: DimensionSearchOptions.Levels.allCases)
    func searchOnTeacherDataChoosesCandidatesAndWritesItsFiles(levels: DimensionSearchOptions.Levels) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var (options, searchOptions) = Self.smallSearch(levels: levels)
        options.learningRate = 3e-3
        let configuration = TrainerTests.deepFMConfiguration
        let run = { () throws -> DimensionSearchResult in
            try DimensionSearch(configuration: configuration, store: store, options: options, searchOptions: searchOptions).run()
        }
        let search = try DimensionSearch(configuration: configuration, store: store, options: options, searchOptions: searchOptions)
        let result = try search.run()
        #expect(result.widths.count == 8 && result.widths.allSatisfy { [2, 4, 8].contains($0) })
        #expect(result.steps == 2 * ((store.rowIndices(of: .train).count + 255) / 256))
        #expect(result.history.count >= 2 && result.history.first?.samples == 0)
        // Alpha moved (the architecture steps ran) and the choice is its argmax.
        #expect(result.alpha.contains { row in row.contains { $0 != 0 } })
        for (f, row) in result.alpha.enumerated() {
            let best = row.indices.max { row[$0] < row[$1] } ?? 0
            #expect(result.widths[f] == result.candidates[best])
        }
        // The supernet learned: a fifth of the way from chance to the oracle on the same rows
        // (this run: 0.30; at learning rate 0, 0.05).
        let oracle = try TrainerTests.oracleAUC(store, .validation)
        let share = TrainerTests.shareOfOracle(result.validation.auc, oracle: oracle)
        #expect(share >= 0.2, "validation AUC \(result.validation.auc), oracle \(oracle): \(share) of the way from 0.5")
        // Same seed, same bits.
        #expect(try run().alpha == result.alpha)
        if levels == .biLevel {
            // The second-order option runs the same schedule through the virtual step: against a
            // first-order search of the same length, alpha differs.
            options.epochs = 1
            let first = try DimensionSearch(configuration: configuration, store: store, options: options, searchOptions: searchOptions)
                .run()
            searchOptions.secondOrder = true
            let second = try DimensionSearch(configuration: configuration, store: store, options: options, searchOptions: searchOptions)
                .run()
            #expect(second.steps == first.steps)
            #expect(second.alpha.contains { row in row.contains { $0 != 0 } } && second.alpha != first.alpha)
            #expect(second.options.secondOrder)
            // One epoch, so a lower bar than the full search's (this run: 0.22, first order 0.29).
            let secondShare = TrainerTests.shareOfOracle(second.validation.auc, oracle: oracle)
            #expect(secondShare >= 0.15, "validation AUC \(second.validation.auc), oracle \(oracle): \(secondShare) of the way from 0.5")
            searchOptions.secondOrder = false
            options.epochs = 2
        }

        try DimensionSearchFiles.write(result, to: directory + "/search")
        let widths = try DimensionsFile.widths(path: directory + "/search/dims.json", fields: result.fields, defaultWidth: 99)
        #expect(widths == result.widths)
        let saved = try JSONDecoder().decode(
            DimensionSearchResult.self,
            from: try Data(contentsOf: URL(fileURLWithPath: directory + "/search/search.json")))
        #expect(saved == result)
        #expect(try String(contentsOfFile: directory + "/search/alpha.svg", encoding: .utf8).hasPrefix("<svg"))
        let table = DimensionSearchFiles.table(result).split(separator: "\n")
        #expect(table.count == 1 + 8 + 1)
        #expect(
            table.last
                == Substring(
                    String(
                        format: "supernet on the validation rows (mixing without noise): AUC %.4f, logloss %.4f",
                        result.validation.auc, result.validation.logloss)))

        // Warm start: the retrained model starts from the chosen candidates' rows and maps and
        // the search's MLP.
        var retrained = configuration
        retrained.embedding = .plain(PlainEmbeddingMethod(widths: result.widths))
        let model = try ModelFactory.make(retrained, store: store, seed: 9)
        // The count search prints is the retrained model's: with projections for DeepFM, without for W&D.
        #expect(model.embedding.parameterCount == result.chosenEmbeddingParameters(projected: true))
        var wide = retrained
        wide.kind = .wd
        #expect(
            try ModelFactory.make(wide, store: store, seed: 9).embedding.parameterCount
                == result.chosenEmbeddingParameters(projected: false))
        #expect(
            result.widths.allSatisfy { $0 == 8 }
                || result.chosenEmbeddingParameters(projected: true)
                    > result.chosenEmbeddingParameters(projected: false)
        )
        let copied = WarmStart.copy(from: search, into: model)
        #expect(copied >= 8 + 8 + 6, "tables, first-order tables and MLP tensors: \(copied)")
        let shared = search.embedding.tables
        for (f, table) in model.embedding.tables.enumerated() {
            let d = table.dimension
            let width = shared[f].dimension
            #expect(d == result.widths[f])
            #expect(
                (0..<table.rows).allSatisfy { row in
                    (0..<d).allSatisfy { table.weights[row * d + $0] == shared[f].weights[row * width + $0] }
                })
        }
        let sourceParameters = Dictionary(uniqueKeysWithValues: search.model.denseParameters.map { ($0.name, $0.value) })
        for parameter in model.denseParameters {
            if parameter.name.hasSuffix(".projection") {
                let field = parameter.name.dropLast(".projection".count)
                #expect(
                    parameter.value == sourceParameters["\(field).candidate\(parameter.value.rows).transform.weight"], "\(parameter.name)")
            } else {
                #expect(parameter.value == sourceParameters[parameter.name], "\(parameter.name)")
            }
        }
    }

    @Test(arguments: DimensionSearchOptions.Levels.allCases)
    func warmUpTrainsOnlyTheWeightsForItsShareOfTheSearch(levels: DimensionSearchOptions.Levels) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let (options, defaults) = Self.smallSearch(levels: levels)
        var searchOptions = defaults
        searchOptions.warmUpFraction = 0.5
        let result = try DimensionSearch(
            configuration: TrainerTests.deepFMConfiguration, store: store, options: options,
            searchOptions: searchOptions
        ).run()
        let rows = store.rowIndices(of: .train).count
        // Alpha is uniform at every snapshot of the first epoch (half the search) and moves after it.
        let warmUp = result.history.filter { $0.samples <= rows }
        #expect(warmUp.count >= 2)
        #expect(warmUp.allSatisfy { $0.probabilities.allSatisfy { $0.allSatisfy { $0 == 1 / Float(3) } } })
        #expect(result.alpha.contains { row in row.contains { $0 != 0 } })
        searchOptions.warmUpFraction = 1
        #expect(throws: DataError.invalidOption("--alpha-warmup must be a fraction of the search in [0, 1)")) {
            try DimensionSearch(
                configuration: TrainerTests.deepFMConfiguration, store: store, options: options, searchOptions: searchOptions)
        }
    }

    @Test(arguments: [DimensionSearchEmbedding.MixedScale.learned, .fixed(0.05)])
    func searchTrainsALearnedScaleAndLeavesAFixedOne(mixedScale: DimensionSearchEmbedding.MixedScale) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var (options, searchOptions) = Self.smallSearch(levels: .biLevel)
        options.epochs = 1
        searchOptions.mixedScale = mixedScale
        let search = try DimensionSearch(
            configuration: TrainerTests.deepFMConfiguration, store: store, options: options,
            searchOptions: searchOptions)
        let learned = mixedScale == .learned
        #expect(search.model.denseParameters.filter { $0.name.hasSuffix(".mixed.scale") }.count == (learned ? 8 : 0))
        let result = try search.run()
        #expect(result.options.mixedScale == mixedScale)
        let start: Float = learned ? DimensionSearchEmbedding.tableInitialScale : 0.05
        #expect(search.embedding.mixedScales.count == 8)
        #expect(search.embedding.mixedScales.allSatisfy { $0.value.values.contains { $0 != start } } == learned)
        #expect(search.embedding.mixedShifts.allSatisfy { $0.value.values.contains { $0 != 0 } } == learned)
        #expect(search.embedding.mixedScales.allSatisfy { $0.value.values.allSatisfy { $0 == start } } == !learned)
        #expect(result.alpha.contains { row in row.contains { $0 != 0 } })
        // As in the full search: a fifth of the way from chance to the oracle (this run: 0.29).
        let oracle = try TrainerTests.oracleAUC(store, .validation)
        let share = TrainerTests.shareOfOracle(result.validation.auc, oracle: oracle)
        #expect(share >= 0.2, "validation AUC \(result.validation.auc), oracle \(oracle): \(share) of the way from 0.5")
    }

    @Test func secondOrderGradientMatchesTheDerivativeThroughTheVirtualStep() throws {
        let (model, embedding) = Self.supernet(tables: .shared, unification: .linear)
        let trainBatch = Models.batch()
        var random = SeededRandom(seed: 77)
        let validationBatch = Batch(
            labels: [0, 1, 1, 0, 1], dense: .uniform(rows: 5, columns: 3, limit: 1, random: &random),
            ids: [4, 0, 1, 2, 3, 5, 1, 1, 2, 0, 2, 4, 3, 0, 5], categoricalCount: 3,
            multiValuedOffsets: [[0, 1, 3, 3, 5, 6]], multiValuedIDs: [[2, 0, 4, 1, 3, 2]])
        let loss = SigmoidCrossEntropy()
        let xi: Float = 0.5
        let before = (model.denseParameters.map(\.value), model.sparseTables.map(\.weights))
        _ = try SecondOrderArchitectureStep.run(
            model: model, embedding: embedding, loss: loss, trainBatch: trainBatch,
            validationBatch: validationBatch, virtualStep: xi, step: 1)
        let approximation = embedding.architecture.gradient
        #expect(
            model.denseParameters.map(\.value) == before.0 && model.sparseTables.map(\.weights) == before.1,
            "the step leaves the weights as they were")
        #expect(embedding.reusesNoise, "the noise setting is restored")

        // Directly: L_val(W - xi grad_W L_train(W, alpha), alpha) as a function of alpha.
        func validationLossAfterVirtualStep() throws -> Double {
            embedding.accumulatesArchitectureGradient = false
            _ = try model.computeGradients(on: trainBatch, loss: loss, step: 1)
            var saved = SavedWeights(model)
            saved.move(model, by: -xi, along: WeightDirection(model))
            let value = Models.loss(model, validationBatch)
            saved.restore(model)
            return value
        }
        var first = Matrix(rows: 4, columns: 3)
        var failures: [String] = []
        for f in 0..<4 {
            for m in 0..<3 {
                let original = embedding.architecture.value[f, m]
                var agreed = false
                for h: Float in [1e-2, 3e-3] {
                    embedding.architecture.value[f, m] = original + h
                    let plus = try validationLossAfterVirtualStep()
                    embedding.architecture.value[f, m] = original - h
                    let minus = try validationLossAfterVirtualStep()
                    embedding.architecture.value[f, m] = original
                    let numeric = (plus - minus) / Double(2 * h)
                    let analytic = Double(approximation[f, m])
                    if abs(analytic - numeric) <= 2e-2 * max(abs(numeric), abs(analytic)) + 2e-4 { agreed = true }
                    first[f, m] = Float(numeric)
                }
                if !agreed { failures.append("alpha[\(f), \(m)]: second order \(approximation[f, m]), direct \(first[f, m])") }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        // The second-order term matters at this xi: the first-order gradient (at W, on the
        // validation batch) differs from the direct derivative.
        embedding.accumulatesArchitectureGradient = true
        embedding.architecture.zeroGradient()
        _ = try model.computeGradients(on: validationBatch, loss: loss, step: 1)
        var largest: Float = 0
        for f in 0..<4 { for m in 0..<3 { largest = max(largest, abs(embedding.architecture.gradient[f, m] - first[f, m])) } }
        #expect(largest > 1e-3, "first order already equals the direct derivative (difference \(largest))")
    }

    /// A search stopped after `stopAt` steps (past the 10% warm-up, so the validation batches'
    /// position and the noise generator are part of the state; 70 is in the second epoch, after
    /// an evaluation) and resumed from its checkpoint chooses the same widths with the same
    /// alpha, history and supernet metrics as an uninterrupted one.
    @Test(arguments: [(DimensionSearchOptions.Levels.biLevel, false, 40), (.oneLevel, false, 70), (.biLevel, true, 20)])
    func resumedSearchEndsWithTheSameAlpha(levels: DimensionSearchOptions.Levels, secondOrder: Bool, stopAt: Int) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var (options, searchOptions) = Self.smallSearch(levels: levels)
        options.epochs = secondOrder ? 1 : 2
        searchOptions.secondOrder = secondOrder
        searchOptions.warmUpFraction = 0.1
        let model = TrainerTests.deepFMConfiguration
        let configuration = RunConfiguration(
            model: model, options: options, dataset: DatasetIdentity(store),
            search: searchOptions)
        let search = { try DimensionSearch(configuration: model, store: store, options: options, searchOptions: searchOptions) }
        let whole = try search().run(run: TrainingRun(directory: directory + "/whole", configuration: configuration, start: .new))

        let run = TrainingRun(directory: directory + "/parts", configuration: configuration, start: .new)
        var polls = 0
        #expect(throws: TrainingError.interrupted(step: stopAt, checkpoint: run.checkpointPath)) {
            _ = try search().run(
                run: run,
                shouldStop: {
                    polls += 1
                    return polls == stopAt
                })
        }
        // A search's temperature and warm-up follow its planned length: other epochs are refused.
        var longer = configuration
        longer.options.epochs += 1
        #expect {
            _ = try search().run(run: TrainingRun(directory: run.directory, configuration: longer, start: .resume))
        } throws: { error in
            guard case .resumeMismatch(_, let differences) = error as? TrainingError else { return false }
            return differences.contains { $0.hasPrefix("--epochs") }
        }
        let resumed = try search().run(run: TrainingRun(directory: run.directory, configuration: configuration, start: .resume))
        #expect(resumed.alpha == whole.alpha && resumed.widths == whole.widths)
        #expect(resumed.history == whole.history && resumed.steps == whole.steps)
        #expect(resumed.validation == whole.validation)
        // Resuming a finished search (autodim --resume after its search) reads it back as it was,
        // the final snapshot's temperature included.
        let again = try search().run(run: TrainingRun(directory: run.directory, configuration: configuration, start: .resume))
        #expect(again == resumed)
        let records = try RunReport.readLog(at: run.metricsLogPath)
        #expect(records.filter { $0.event == .start }.map(\.resumed) == [false, true, true])

        // A training run cannot continue a search's checkpoint, nor a search a training run's.
        var plain = configuration
        plain.search = nil
        let trainer = Trainer(
            model: try ModelFactory.make(model, store: store, seed: 1), configuration: model, store: store, options: options)
        #expect {
            _ = try trainer.fit(run: TrainingRun(directory: run.directory, configuration: plain, start: .resume))
        } throws: { error in
            guard case .resumeMismatch(_, let differences) = error as? TrainingError else { return false }
            return differences.contains { $0.contains("search --resume") }
        }
    }
}
