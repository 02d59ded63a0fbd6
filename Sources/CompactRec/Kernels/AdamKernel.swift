import CompactRecData
import CompactRecShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// One Adam step (Kingma & Ba) on runs of values: the dense optimizer's parameters and the
/// sparse optimizer's touched rows.
///
/// Per value: `g' = g + l2 * w` (with an L2 penalty), `m = b1 m + (1 - b1) g'`,
/// `v = b2 v + (1 - b2) g'^2`, `w -= lr (m / c1) / (sqrt(v / c2) + eps)` with the bias
/// corrections `c = 1 - b^step`. Eight values at a time on SIMD8 with a vectorised square root
/// (`compactrec_sqrt8`; Swift's `SIMD8.squareRoot()` is eight `sqrtf` calls), then a scalar tail
/// doing the same operations in the same order, so a value gets the same bits on either path.
struct AdamStep: Sendable {
    let learningRate: Float
    let beta1: Float, beta2: Float, epsilon: Float
    /// The bias corrections of this step, `1 - beta^step`.
    let correction1: Float, correction2: Float
    /// The L2 penalty added to the gradient, if any.
    let l2: Float?

    init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, step: Int, l2: Float? = nil) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.l2 = l2
        correction1 = 1 - powf(beta1, Float(step))
        correction2 = 1 - powf(beta2, Float(step))
    }

    /// Updates `count` weights `w` and their moments `m`, `v` from gradients `g`.
    @inline(__always)
    func update(
        _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, count: Int
    ) {
        let decay = l2 ?? 0
        let hasDecay = l2 != nil
        var i = 0
        if count >= 8 {
            let b1 = SIMD8(repeating: beta1)
            let b2 = SIMD8(repeating: beta2)
            let oneMinusB1 = SIMD8(repeating: 1 - beta1)
            let oneMinusB2 = SIMD8(repeating: 1 - beta2)
            let c1 = SIMD8(repeating: correction1)
            let c2 = SIMD8(repeating: correction2)
            let lr = SIMD8(repeating: learningRate)
            let eps = SIMD8(repeating: epsilon)
            let decay8 = SIMD8(repeating: decay)
            while i + 8 <= count {
                let wi = Elementwise.load8(w + i)
                var gi = Elementwise.load8(g + i)
                if hasDecay { gi = gi + decay8 * wi }
                let mi = b1 * Elementwise.load8(m + i) + oneMinusB1 * gi
                let vi = b2 * Elementwise.load8(v + i) + oneMinusB2 * gi * gi
                Elementwise.store8(mi, m + i)
                Elementwise.store8(vi, v + i)
                Elementwise.store8(wi - lr * (mi / c1) / (compactrec_sqrt8(vi / c2) + eps), w + i)
                i += 8
            }
        }
        while i < count {
            var gi = g[i]
            if hasDecay { gi = gi + decay * w[i] }
            let mi = beta1 * m[i] + (1 - beta1) * gi
            let vi = beta2 * v[i] + (1 - beta2) * gi * gi
            m[i] = mi
            v[i] = vi
            w[i] -= learningRate * (mi / correction1) / ((vi / correction2).squareRoot() + epsilon)
            i += 1
        }
    }
}
