import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct CrossNetworkTests {
    /// A 2-wide network with hand-picked weights: layer 0 `W = [[1, 2], [3, 4]]`, `b = [0.5, -1]`;
    /// layer 1 `W = [[0.5, 0], [0, -0.25]]`, `b = [1, 0]` (only the first `layers` are used).
    static func handNetwork(layers: Int) -> CrossNetwork {
        var random = SeededRandom(seed: 1)
        let network = CrossNetwork(width: 2, layers: layers, random: &random)
        let weights: [[Float]] = [[1, 2, 3, 4], [0.5, 0, 0, -0.25]]
        let biases: [[Float]] = [[0.5, -1], [1, 0]]
        for l in 0..<layers {
            network.weights[l].value = Matrix(rows: 2, columns: 2, values: weights[l])
            network.biases[l].value = Matrix(rows: 1, columns: 2, values: biases[l])
        }
        return network
    }

    @Test func forwardMatchesHandComputedTwoWide() {
        let x0 = Matrix(rows: 2, columns: 2, values: [1, 2, -1, 0.5])
        // Row 0, x0 = [1, 2]:
        //   u0 = x0 W0 + b0 = [1*1 + 2*3, 1*2 + 2*4] + [0.5, -1] = [7.5, 9]
        //   x1 = x0 ⊙ u0 + x0 = [7.5 + 1, 18 + 2] = [8.5, 20]
        //   u1 = x1 W1 + b1 = [8.5*0.5 + 20*0, 8.5*0 + 20*-0.25] + [1, 0] = [5.25, -5]
        //   x2 = x0 ⊙ u1 + x1 = [5.25 + 8.5, -10 + 20] = [13.75, 10]
        // Row 1, x0 = [-1, 0.5]:
        //   u0 = [-1 + 1.5, -2 + 2] + [0.5, -1] = [1, -1]
        //   x1 = [-1*1 - 1, 0.5*-1 + 0.5] = [-2, 0]
        //   u1 = [-2*0.5 + 0, 0] + [1, 0] = [0, 0]
        //   x2 = x0 ⊙ 0 + x1 = [-2, 0]
        let one = Self.handNetwork(layers: 1).forward(x0, training: false)
        #expect(one.rows == 2 && one.columns == 2)
        #expect(one.values == [8.5, 20, -2, 0])
        let two = Self.handNetwork(layers: 2).forward(x0, training: false)
        #expect(two.values == [13.75, 10, -2, 0])
    }

    @Test func backwardMatchesHandComputedOneLayer() {
        let network = Self.handNetwork(layers: 1)
        _ = network.forward(Matrix(rows: 1, columns: 2, values: [1, 2]), training: true)
        let dx = network.backward(Matrix(rows: 1, columns: 2, values: [1, 1]))
        // g = [1, 1], x0 = [1, 2], u0 = [7.5, 9]:
        //   v = g ⊙ x0 = [1, 2]
        //   dx0 = g ⊙ u0 + g + v W0^T = [7.5, 9] + [1, 1] + [1*1 + 2*2, 1*3 + 2*4] = [13.5, 21]
        //   dW0 = x0^T v = [[1, 2], [2, 4]], db0 = [1, 2]
        #expect(dx.values == [13.5, 21])
        #expect(network.weights[0].gradient.values == [1, 2, 2, 4])
        #expect(network.biases[0].gradient.values == [1, 2])
    }

    @Test func structureNamesAndInitialisation() {
        var random = SeededRandom(seed: 7)
        let network = CrossNetwork(width: 30, layers: 3, random: &random)
        #expect(
            network.parameters.map(\.name) == [
                "cross.0.weight", "cross.0.bias", "cross.1.weight", "cross.1.bias", "cross.2.weight", "cross.2.bias",
            ])
        let limit = (6.0 / 60.0 as Float).squareRoot()
        for weight in network.weights {
            #expect(weight.value.rows == 30 && weight.value.columns == 30)
            #expect(weight.value.values.allSatisfy { abs($0) <= limit })
        }
        #expect(network.biases.allSatisfy { $0.value.rows == 1 && $0.value.columns == 30 && $0.value.values.allSatisfy { $0 == 0 } })
        // Layer by layer from the same generator, as Linear draws its weights.
        var again = SeededRandom(seed: 7)
        for l in 0..<3 {
            #expect(Linear(inputs: 30, outputs: 30, random: &again).weight.value == network.weights[l].value)
        }
        var named = SeededRandom(seed: 7)
        #expect(CrossNetwork(width: 4, layers: 1, name: "x", random: &named).parameters.map(\.name) == ["x.0.weight", "x.0.bias"])
    }

    @Test(arguments: [(2, 1, 3), (2, 2, 4), (5, 3, 4), (7, 2, 1), (4, 4, 3)])
    func gradientsMatchFiniteDifferences(width: Int, layers: Int, batch: Int) {
        var random = SeededRandom(seed: UInt64(10 * width + layers))
        let network = CrossNetwork(width: width, layers: layers, random: &random)
        // Random biases too (not the zero start), and moderate weights: x_L has degree L + 1.
        TestMatrix.randomizeParameters(of: network, seed: UInt64(100 * width + layers), limit: 0.6)
        let x = TestMatrix.random(rows: batch, columns: width, seed: UInt64(1000 * width + layers))
        GradientCheck().verify(network, input: x)
    }

    @Test func requiresGradientFalseLeavesGradientsZero() {
        var random = SeededRandom(seed: 3)
        let network = CrossNetwork(width: 4, layers: 3, random: &random)
        TestMatrix.randomizeParameters(of: network, seed: 30)
        let x = TestMatrix.random(rows: 5, columns: 4, seed: 31)
        let g = TestMatrix.random(rows: 5, columns: 4, seed: 32)
        _ = network.forward(x, training: true)
        let reference = network.backward(g)
        let full = network.parameters.map(\.gradient)
        #expect(full.allSatisfy { $0.values.contains { $0 != 0 } })

        // No parameter requires a gradient: none accumulates, dL/dx_0 is unchanged.
        for parameter in network.parameters {
            parameter.zeroGradient()
            parameter.requiresGradient = false
        }
        _ = network.forward(x, training: true)
        #expect(TestMatrix.identical(network.backward(g), reference))
        #expect(network.parameters.allSatisfy { $0.gradient.values.allSatisfy { $0 == 0 } })

        // Biases only, then weights only: each gets the full pass's gradient, the other none.
        for (weightsOn, biasesOn) in [(false, true), (true, false)] {
            for weight in network.weights {
                weight.zeroGradient()
                weight.requiresGradient = weightsOn
            }
            for bias in network.biases {
                bias.zeroGradient()
                bias.requiresGradient = biasesOn
            }
            _ = network.forward(x, training: true)
            #expect(TestMatrix.identical(network.backward(g), reference))
            for (parameter, expected) in zip(network.parameters, full) {
                if parameter.requiresGradient {
                    #expect(TestMatrix.identical(parameter.gradient, expected), "\(parameter.name)")
                } else {
                    #expect(parameter.gradient.values.allSatisfy { $0 == 0 }, "\(parameter.name)")
                }
            }
        }
    }

    @Test func threadCountsGiveTheSameBits() {
        // A batch large enough that the GEMMs and the elementwise passes split over two cores.
        var outputs: [Matrix] = []
        var inputGradients: [Matrix] = []
        var parameterGradients: [[Matrix]] = []
        let x = TestMatrix.random(rows: 517, columns: 37, seed: 41)
        let g = TestMatrix.random(rows: 517, columns: 37, seed: 42)
        for threads in [1, 2] {
            var random = SeededRandom(seed: 40)
            let network = CrossNetwork(width: 37, layers: 3, random: &random)
            network.threads = threads
            // Two batch sizes in turn: the buffers are resized, not rebuilt.
            _ = network.forward(TestMatrix.random(rows: 3, columns: 37, seed: 43), training: true)
            _ = network.backward(TestMatrix.random(rows: 3, columns: 37, seed: 44))
            for parameter in network.parameters { parameter.zeroGradient() }
            outputs.append(network.forward(x, training: true))
            inputGradients.append(network.backward(g))
            parameterGradients.append(network.parameters.map(\.gradient))
        }
        #expect(TestMatrix.identical(outputs[0], outputs[1]))
        #expect(TestMatrix.identical(inputGradients[0], inputGradients[1]))
        for (a, b) in zip(parameterGradients[0], parameterGradients[1]) { #expect(TestMatrix.identical(a, b)) }
    }

    @Test func zeroLayersIsTheIdentity() {
        var random = SeededRandom(seed: 5)
        let network = CrossNetwork(width: 3, layers: 0, random: &random)
        let x = TestMatrix.random(rows: 2, columns: 3, seed: 6)
        #expect(network.forward(x, training: true) == x)
        #expect(network.backward(x) == x)
        #expect(network.parameters.isEmpty)
    }
}
