import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct MLPTests {
    @Test func structureAndParameterNames() {
        var random = SeededRandom(seed: 1)
        let mlp = MLP(inputs: 5, hidden: [7, 4], outputs: 1, batchNorm: true, dropout: 0.2, random: &random)
        let kinds = mlp.layers.map { String(describing: type(of: $0)) }
        #expect(kinds == ["Linear", "BatchNorm", "ReLU", "Dropout", "Linear", "BatchNorm", "ReLU", "Dropout", "Linear"])
        #expect(
            mlp.parameters.map(\.name) == [
                "mlp.0.weight", "mlp.1.gamma", "mlp.1.beta",
                "mlp.4.weight", "mlp.5.gamma", "mlp.5.beta",
                "mlp.8.weight", "mlp.8.bias",
            ])
        let scalars = mlp.parameters.reduce(0) { $0 + $1.count }
        let expectedScalars: Int = (5 * 7 + 14) + (7 * 4 + 8) + (4 + 1)
        #expect(scalars == expectedScalars)
        #expect(mlp.outputs == 1)

        let plain = MLP(inputs: 3, hidden: [6, 2], random: &random)
        #expect(plain.layers.map { String(describing: type(of: $0)) } == ["Linear", "ReLU", "Linear", "ReLU"])
        #expect(plain.outputs == 2)
        let y = plain.forward(TestMatrix.random(rows: 4, columns: 3, seed: 2), training: false)
        #expect(y.rows == 4 && y.columns == 2 && y.values.allSatisfy { $0 >= 0 })

        plain.threads = 2
        #expect(plain.layers.allSatisfy { $0.threads == 2 })
    }

    @Test func forwardIsTheCompositionOfItsLayers() {
        var random = SeededRandom(seed: 3)
        let mlp = MLP(inputs: 3, hidden: [4], outputs: 2, random: &random)
        let x = TestMatrix.random(rows: 3, columns: 3, seed: 4)
        let y = mlp.forward(x, training: false)
        guard let first = mlp.layers[0] as? Linear, let last = mlp.layers[2] as? Linear else {
            Issue.record("unexpected layers")
            return
        }
        for r in 0..<3 {
            for o in 0..<2 {
                var sum = Double(last.bias?.value[0, o] ?? 0)
                for h in 0..<4 {
                    var pre = Double(first.bias?.value[0, h] ?? 0)
                    for i in 0..<3 { pre += Double(x[r, i]) * Double(first.weight.value[i, h]) }
                    sum += max(pre, 0) * Double(last.weight.value[h, o])
                }
                #expect(abs(Double(y[r, o]) - sum) < 1e-5)
            }
        }
    }

    /// Runs `mlp` forward in training mode layer by layer (drawing fresh dropout masks) and
    /// returns the smallest distance of any ReLU input from the kink at 0.
    static func kinkMargin(_ mlp: MLP, _ input: Matrix) -> Float {
        var activation = input
        var margin = Float.infinity
        for layer in mlp.layers {
            if layer is ReLU { margin = min(margin, activation.values.map(abs).min() ?? .infinity) }
            activation = layer.forward(activation, training: true)
        }
        return margin
    }

    /// Checks `mlp` at an input of `batch` rows whose ReLU inputs all lie at least 0.02 from 0:
    /// Float finite differences cannot resolve a kink closer than their step (about 1e-2, or
    /// 1e-3 at best before rounding dominates), and such inputs are common in tiny batches. The
    /// dropout masks drawn while measuring the margin are held for the check.
    static func verifyAwayFromKinks(_ mlp: MLP, batch: Int, seed: UInt64) {
        let dropouts = mlp.layers.compactMap { $0 as? Dropout }
        for attempt in 0..<100 as Range<UInt64> {
            let x = TestMatrix.random(rows: batch, columns: mlp.inputs, seed: seed &+ attempt)
            for dropout in dropouts { dropout.reusesMask = false }
            guard kinkMargin(mlp, x) >= 0.02 else { continue }
            for dropout in dropouts { dropout.reusesMask = true }
            GradientCheck(fallbackEpsilons: [3e-3, 1e-3]).verify(mlp, input: x)
            return
        }
        Issue.record("no input of \(batch) rows keeps every ReLU input 0.02 from the kink")
    }

    @Test func gradientsMatchFiniteDifferences() {
        var random = SeededRandom(seed: 5)
        let mlp = MLP(inputs: 4, hidden: [6, 5], outputs: 3, random: &random)
        TestMatrix.randomizeParameters(of: mlp, seed: 90)
        for (index, batch) in [5, 3, 4].enumerated() {
            Self.verifyAwayFromKinks(mlp, batch: batch, seed: 100 + 1000 * UInt64(index))
        }
    }

    @Test func gradientsWithBatchNormAndFixedDropoutMasks() {
        var random = SeededRandom(seed: 6)
        let mlp = MLP(inputs: 5, hidden: [7, 4], outputs: 2, batchNorm: true, dropout: 0.25, random: &random)
        TestMatrix.randomizeParameters(of: mlp, seed: 110)
        #expect(mlp.layers.compactMap { $0 as? Dropout }.count == 2)
        for (index, batch) in [5, 3, 4].enumerated() {
            Self.verifyAwayFromKinks(mlp, batch: batch, seed: 120 + 1000 * UInt64(index))
        }
    }

    @Test func gradientsAreRightForManyNetworks() {
        // Twenty small networks, half with batch normalisation, all with dropout.
        for seed in 0..<20 as Range<UInt64> {
            var random = SeededRandom(seed: 200 + seed)
            let mlp = MLP(inputs: 3, hidden: [5, 4], outputs: 2, batchNorm: seed % 2 == 0, dropout: 0.2, random: &random)
            TestMatrix.randomizeParameters(of: mlp, seed: 300 + seed)
            Self.verifyAwayFromKinks(mlp, batch: 3 + Int(seed % 3), seed: 400 + 1000 * seed)
        }
    }

    @Test func emptyMLPIsTheIdentity() {
        var random = SeededRandom(seed: 7)
        let mlp = MLP(inputs: 3, hidden: [], random: &random)
        let x = TestMatrix.random(rows: 2, columns: 3, seed: 8)
        #expect(mlp.forward(x, training: true) == x)
        #expect(mlp.backward(x) == x)
        #expect(mlp.parameters.isEmpty && mlp.outputs == 3)
    }

    /// Runs `mlp`'s layers one at a time (no fused steps): forward in training mode, then
    /// backward of `gradient`; returns the output and the input gradient.
    static func layerByLayer(_ mlp: MLP, _ input: Matrix, _ gradient: Matrix) -> (output: Matrix, inputGradient: Matrix) {
        var activation = input
        for layer in mlp.layers { activation = layer.forward(activation, training: true) }
        let output = activation
        var back = gradient
        for layer in mlp.layers.reversed() { back = layer.backward(back) }
        return (output, back)
    }

    @Test func fusedReLUStepsGiveTheBitsOfTheLayersRunOneByOne() {
        // Widths with ragged GEMM tiles, a final Linear or a final ReLU, one and two threads.
        for (index, outputs) in [3, nil].enumerated() {
            for threads in [1, 2] {
                let seed = UInt64(500 + 10 * index + threads)
                var randomA = SeededRandom(seed: seed)
                var randomB = SeededRandom(seed: seed)
                let fused = MLP(inputs: 7, hidden: [40, 23, 5], outputs: outputs, random: &randomA)
                let reference = MLP(inputs: 7, hidden: [40, 23, 5], outputs: outputs, random: &randomB)
                TestMatrix.randomizeParameters(of: fused, seed: seed)
                TestMatrix.randomizeParameters(of: reference, seed: seed)
                fused.threads = threads
                reference.threads = threads
                let x = TestMatrix.random(rows: 131, columns: 7, seed: seed + 1)
                let g = TestMatrix.random(rows: 131, columns: fused.outputs, seed: seed + 2)
                let y = fused.forward(x, training: true)
                let dx = fused.backward(g)
                let expected = Self.layerByLayer(reference, x, g)
                let context = "outputs \(String(describing: outputs)) threads \(threads)"
                #expect(TestMatrix.identical(y, expected.output), "\(context)")
                #expect(TestMatrix.identical(dx, expected.inputGradient), "\(context)")
                for (a, b) in zip(fused.parameters, reference.parameters) {
                    #expect(TestMatrix.identical(a.gradient, b.gradient), "\(a.name) \(context)")
                }
            }
        }
    }

    @Test func parameterGradientsWithoutTheInputGradientAreTheSame() {
        var randomA = SeededRandom(seed: 600)
        var randomB = SeededRandom(seed: 600)
        let full = MLP(inputs: 13, hidden: [30, 16], random: &randomA)
        let parametersOnly = MLP(inputs: 13, hidden: [30, 16], random: &randomB)
        let x = TestMatrix.random(rows: 50, columns: 13, seed: 601)
        let g = TestMatrix.random(rows: 50, columns: 16, seed: 602)
        _ = full.forward(x, training: true)
        _ = full.backward(g)
        _ = parametersOnly.forward(x, training: true)
        parametersOnly.accumulateParameterGradients(g)
        for (a, b) in zip(full.parameters, parametersOnly.parameters) {
            #expect(TestMatrix.identical(a.gradient, b.gradient), "\(a.name)")
            #expect(a.gradient.values.contains { $0 != 0 }, "\(a.name) got no gradient")
        }
    }
}
