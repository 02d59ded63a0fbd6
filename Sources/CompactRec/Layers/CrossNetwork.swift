import CompactRecData

/// The cross network of DCN-v2 (Wang et al. 2021, "DCN V2: Improved Deep & Cross Network"), in
/// its stacked form with full-rank matrices: `L` cross layers over width `D`,
///
///     u_l     = x_l W_l + b_l
///     x_{l+1} = x_0 ⊙ u_l + x_l,        l = 0 ..< L
///
/// where `x_0` is the layer's input, `W_l` a full `D x D` matrix (stored `inputs x outputs`, as
/// `Linear`, so `x_l W_l` is one GEMM without transposes), `b_l` a `1 x D` row and `⊙` the
/// elementwise product. Each layer multiplies by the original features once more, so `x_l` is a
/// polynomial of `x_0` of degree `l + 1`: the network learns explicit, bounded-degree feature
/// crosses, which an MLP only approximates. The residual `+ x_l` keeps the lower-degree crosses
/// (and makes a layer with `W = 0, b = 0` the identity). Full rank, instead of DCN's rank-1
/// `x_0 x_l^T w`, is v2's change: `D^2` weights and one `B x D x D` GEMM per layer each way.
///
/// Backward pass, from `g = dL/dx_{l+1}` and the `u_l` kept by the forward pass:
///
///     v         = dL/du_l = g ⊙ x_0
///     dL/dx_0  += g ⊙ u_l           (every layer reads x_0 directly, not only the first)
///     dL/dx_l   = g + v W_l^T       (the residual, and the product through W_l)
///     dW_l     += x_l^T v,  db_l += column sums of v
///
/// run from `l = L - 1` down to 0; the input gradient is the sum of the `L` direct terms and
/// `dL/dx_l` at `l = 0`. The elementwise parts of a step are one pass over the batch, the rest
/// GEMMs (the gradient through `W_l` accumulates onto the copied residual with `beta = 1`).
///
/// Parameters are named `"<name>.<l>.weight"` and `"<name>.<l>.bias"`. Initialisation as `Linear`
/// (and the reference implementation's Keras dense kernels): each `W_l` Xavier/Glorot uniform,
/// `U(-a, a)` with `a = sqrt(6 / (D + D))`, drawn from `random` in layer order; biases start at 0.
///
/// All buffers are kept across batches and resized (allocating only when a batch is larger than
/// any before). A training forward keeps `x_0` (held, not copied), every `u_l` and every `x_l`
/// until `backward`, as the `Layer` contract describes.
public final class CrossNetwork: Layer {
    /// Width `D` of the input, of every cross layer and of the output.
    public let width: Int
    /// Number of cross layers `L` (0: the identity).
    public let layerCount: Int
    /// The weights `W_l`, `D x D` each, in layer order.
    public let weights: [DenseParameter]
    /// The biases `b_l`, `1 x D` each, in layer order.
    public let biases: [DenseParameter]
    /// Cores the GEMMs and the elementwise passes may use (any count gives the same bits).
    public var threads = 1

    /// `u_l = x_l W_l + b_l` of the last forward, per layer.
    private var products: [Matrix]
    /// `x_{l+1}` of the last forward, per layer (the last is the output).
    private var outputs: [Matrix]
    /// The input `x_0` of the last training forward, held (not copied) until `backward`.
    private var cachedInput: Matrix?
    /// dL/dx_0, accumulated over the layers.
    private var inputGradient: Matrix
    /// `v = dL/du_l` of the layer being differentiated.
    private var productGradient: Matrix
    /// dL/dx_l being built (the residual copy, then `+ v W_l^T`).
    private var passGradient: Matrix
    /// dL/dx_{l+1} from the step before (swapped with `passGradient` after each step).
    private var layerGradient: Matrix

    /// `layers` cross layers over `width` features, with Xavier-uniform weights drawn from `random`
    /// (layer 0 first) and zero biases, named `"<name>.<l>.weight"` and `"<name>.<l>.bias"`.
    public init(width: Int, layers: Int, name: String = "cross", random: inout SeededRandom) {
        precondition(width > 0, "CrossNetwork needs a positive width, got \(width)")
        precondition(layers >= 0, "CrossNetwork needs a non-negative number of layers, got \(layers)")
        self.width = width
        layerCount = layers
        let limit = (6 / Float(width + width)).squareRoot()
        var weights: [DenseParameter] = []
        var biases: [DenseParameter] = []
        for l in 0..<layers {
            weights.append(
                DenseParameter(
                    name: "\(name).\(l).weight",
                    value: .uniform(rows: width, columns: width, limit: limit, random: &random)))
            biases.append(DenseParameter(name: "\(name).\(l).bias", value: Matrix(rows: 1, columns: width)))
        }
        self.weights = weights
        self.biases = biases
        products = (0..<layers).map { _ in Matrix(rows: 0, columns: width) }
        outputs = (0..<layers).map { _ in Matrix(rows: 0, columns: width) }
        inputGradient = Matrix(rows: 0, columns: width)
        productGradient = Matrix(rows: 0, columns: width)
        passGradient = Matrix(rows: 0, columns: width)
        layerGradient = Matrix(rows: 0, columns: width)
    }

    /// Per layer, its weight then its bias.
    public var parameters: [DenseParameter] {
        var parameters: [DenseParameter] = []
        for (weight, bias) in zip(weights, biases) {
            parameters.append(weight)
            parameters.append(bias)
        }
        return parameters
    }

    /// `x_L` for a `batch x D` input `x_0` (the input itself when there are no layers).
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        precondition(input.columns == width, "CrossNetwork expects \(width) input columns, got \(input.columns)")
        cachedInput = training ? input : nil
        for l in 0..<layerCount {
            let x = l == 0 ? input : outputs[l - 1]
            products[l].resize(rows: input.rows)
            // u_l = x_l W_l + b_l, the bias added as the product writes each tile.
            GEMM.multiply(x, weights[l].value, into: &products[l], adding: biases[l].value, threads: threads)
            CrossKernels.combine(x0: input, product: products[l], residual: x, into: &outputs[l], threads: threads)
        }
        return layerCount > 0 ? outputs[layerCount - 1] : input
    }

    /// dL/dx_0 from dL/dx_L, through the residuals, the products and every layer's direct use of
    /// `x_0` (see the type's documentation); adds `x_l^T v` and the column sums of `v` to each
    /// layer's weight and bias gradients (only where they require gradients).
    public func backward(_ outputGradient: Matrix) -> Matrix {
        guard let x0 = cachedInput else {
            preconditionFailure("CrossNetwork.backward needs a preceding forward(_:training: true)")
        }
        cachedInput = nil
        precondition(
            outputGradient.rows == x0.rows && outputGradient.columns == width,
            "CrossNetwork.backward expects a \(x0.rows)x\(width) gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        guard layerCount > 0 else { return outputGradient }
        let rows = x0.rows
        inputGradient.resize(rows: rows)
        productGradient.resize(rows: rows)
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            // g = dL/dx_{l+1}; the last layer's direct x_0 term initialises dL/dx_0.
            let gradient = l == layerCount - 1 ? outputGradient : layerGradient
            let accumulate = l < layerCount - 1
            if l > 0 {
                // v = g ⊙ x_0, dL/dx_0 (+)= g ⊙ u_l, dL/dx_l = g (the residual) ...
                passGradient.resize(rows: rows)
                CrossKernels.backwardStep(
                    gradient: gradient, x0: x0, product: products[l], accumulate: accumulate,
                    productGradient: &productGradient, x0Gradient: &inputGradient,
                    residualGradient: &passGradient, threads: threads)
                accumulateParameterGradients(layer: l, input: outputs[l - 1])
                // ... + v W_l^T.
                GEMM.multiply(productGradient, weights[l].value, transposeB: true, into: &passGradient, beta: 1, threads: threads)
                swap(&passGradient, &layerGradient)
            } else {
                // x_l is x_0 itself: its residual and product gradients go straight to dL/dx_0.
                CrossKernels.firstLayerBackward(
                    gradient: gradient, x0: x0, product: products[0], accumulate: accumulate,
                    productGradient: &productGradient, x0Gradient: &inputGradient, threads: threads)
                accumulateParameterGradients(layer: 0, input: x0)
                GEMM.multiply(productGradient, weights[0].value, transposeB: true, into: &inputGradient, beta: 1, threads: threads)
            }
        }
        return inputGradient
    }

    /// `dW_l += x_l^T v`, `db_l += column sums of v` (each only if its parameter requires it),
    /// with `v` in `productGradient`.
    private func accumulateParameterGradients(layer l: Int, input: Matrix) {
        let weight = weights[l]
        let bias = biases[l]
        switch (weight.requiresGradient, bias.requiresGradient) {
        case (true, true):
            GEMM.multiply(
                input, transposeA: true, productGradient, into: &weight.gradient, beta: 1,
                addingColumnSumsOfBTo: &bias.gradient, threads: threads)
        case (true, false):
            GEMM.multiply(input, transposeA: true, productGradient, into: &weight.gradient, beta: 1, threads: threads)
        case (false, true):
            Elementwise.columnSums(productGradient, into: &bias.gradient, accumulate: true, threads: threads)
        case (false, false):
            break
        }
    }

    /// Drops the input kept by the last training forward when no backward pass will follow
    /// (so that the layer before may overwrite that buffer in place).
    public func releaseCachedInput() {
        cachedInput = nil
    }
}

/// The elementwise passes of `CrossNetwork`: loops over raw storage in memory order (which LLVM
/// vectorises), rows split over the cores by `Elementwise.forEachRowRange`, so every thread count
/// gives the same bits. All inputs have the same shape; outputs are resized to it.
private enum CrossKernels {
    typealias Read = Elementwise.ReadPointer
    typealias Write = Elementwise.WritePointer

    /// `output = x0 ⊙ product + residual`: a cross layer's output.
    static func combine(x0: Matrix, product: Matrix, residual: Matrix, into output: inout Matrix, threads: Int) {
        precondition(product.rows == x0.rows && residual.rows == x0.rows, "CrossNetwork: row counts differ")
        output.resize(rows: x0.rows)
        let rows = x0.rows
        let columns = x0.columns
        x0.withUnsafeBufferPointer { a in
            product.withUnsafeBufferPointer { u in
                residual.withUnsafeBufferPointer { x in
                    output.withUnsafeMutableBufferPointer { y in
                        guard let a = a.baseAddress, let u = u.baseAddress, let x = x.baseAddress, let y = y.baseAddress else { return }
                        let (pa, pu, px, py) = (Read(base: a), Read(base: u), Read(base: x), Write(base: y))
                        Elementwise.forEachRowRange(rows: rows, workPerRow: 3 * columns, threads: threads) { range in
                            for i in range.lowerBound * columns..<range.upperBound * columns {
                                py.base[i] = pa.base[i] * pu.base[i] + px.base[i]
                            }
                        }
                    }
                }
            }
        }
    }

    /// One pass of a layer `l > 0`'s backward step, for `g = gradient`:
    /// `productGradient = g ⊙ x0`, `x0Gradient (+)= g ⊙ product` (added with `accumulate`, else
    /// written), `residualGradient = g`.
    static func backwardStep(
        gradient: Matrix, x0: Matrix, product: Matrix, accumulate: Bool,
        productGradient: inout Matrix, x0Gradient: inout Matrix, residualGradient: inout Matrix,
        threads: Int
    ) {
        precondition(gradient.rows == x0.rows && product.rows == x0.rows, "CrossNetwork: row counts differ")
        productGradient.resize(rows: x0.rows)
        x0Gradient.resize(rows: x0.rows)
        residualGradient.resize(rows: x0.rows)
        let rows = x0.rows
        let columns = x0.columns
        gradient.withUnsafeBufferPointer { g in
            x0.withUnsafeBufferPointer { a in
                product.withUnsafeBufferPointer { u in
                    productGradient.withUnsafeMutableBufferPointer { v in
                        x0Gradient.withUnsafeMutableBufferPointer { da in
                            residualGradient.withUnsafeMutableBufferPointer { dx in
                                guard let g = g.baseAddress, let a = a.baseAddress, let u = u.baseAddress, let v = v.baseAddress,
                                    let da = da.baseAddress, let dx = dx.baseAddress
                                else { return }
                                let (pg, pa, pu) = (Read(base: g), Read(base: a), Read(base: u))
                                let (pv, pda, pdx) = (Write(base: v), Write(base: da), Write(base: dx))
                                Elementwise.forEachRowRange(rows: rows, workPerRow: 6 * columns, threads: threads) { range in
                                    let values = range.lowerBound * columns..<range.upperBound * columns
                                    if accumulate {
                                        for i in values {
                                            let gi = pg.base[i]
                                            pv.base[i] = gi * pa.base[i]
                                            pda.base[i] += gi * pu.base[i]
                                            pdx.base[i] = gi
                                        }
                                    } else {
                                        for i in values {
                                            let gi = pg.base[i]
                                            pv.base[i] = gi * pa.base[i]
                                            pda.base[i] = gi * pu.base[i]
                                            pdx.base[i] = gi
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One pass of layer 0's backward step, whose input is `x0` itself, for `g = gradient`:
    /// `productGradient = g ⊙ x0`, `x0Gradient (+)= g ⊙ product + g` (the direct term and the
    /// residual; added with `accumulate`, else written).
    static func firstLayerBackward(
        gradient: Matrix, x0: Matrix, product: Matrix, accumulate: Bool,
        productGradient: inout Matrix, x0Gradient: inout Matrix, threads: Int
    ) {
        precondition(gradient.rows == x0.rows && product.rows == x0.rows, "CrossNetwork: row counts differ")
        productGradient.resize(rows: x0.rows)
        x0Gradient.resize(rows: x0.rows)
        let rows = x0.rows
        let columns = x0.columns
        gradient.withUnsafeBufferPointer { g in
            x0.withUnsafeBufferPointer { a in
                product.withUnsafeBufferPointer { u in
                    productGradient.withUnsafeMutableBufferPointer { v in
                        x0Gradient.withUnsafeMutableBufferPointer { da in
                            guard let g = g.baseAddress, let a = a.baseAddress, let u = u.baseAddress, let v = v.baseAddress,
                                let da = da.baseAddress
                            else { return }
                            let (pg, pa, pu, pv, pda) = (Read(base: g), Read(base: a), Read(base: u), Write(base: v), Write(base: da))
                            Elementwise.forEachRowRange(rows: rows, workPerRow: 5 * columns, threads: threads) { range in
                                let values = range.lowerBound * columns..<range.upperBound * columns
                                if accumulate {
                                    for i in values {
                                        let gi = pg.base[i]
                                        pv.base[i] = gi * pa.base[i]
                                        pda.base[i] += gi * pu.base[i] + gi
                                    }
                                } else {
                                    for i in values {
                                        let gi = pg.base[i]
                                        pv.base[i] = gi * pa.base[i]
                                        pda.base[i] = gi * pu.base[i] + gi
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
