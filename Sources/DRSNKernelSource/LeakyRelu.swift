// LeakyRelu kernel: y = x for x >= 0 (and NaN), alpha * x for x < 0.

extension ISAKernels {
    /// output[i] = input[i] < 0 ? alpha * input[i] : input[i] for i in 0..<count. May run in
    /// place (output == input). NaN and -0 pass through unchanged.
    public static func leakyRelu(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int, alpha: Float) {
        kernelPrecondition(count >= 0, "leakyRelu: count \(count) < 0")
        let a = SIMD16<Float>(repeating: alpha), zero = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD16<Float>.self)
            let y = x.replacing(with: x * a, where: x .< zero)
            UnsafeMutableRawPointer(output + i).storeBytes(of: y, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let x = input[i]
            output[i] = x < 0 ? x * alpha : x
            i += 1
        }
    }
}
