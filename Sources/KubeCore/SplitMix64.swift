/// SplitMix64: a tiny, fast random generator, good enough statistically and reproducible from a
/// seed, so that fault injection and fuzz tests replay the same sequence for the same seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state (the seed, then advanced by every draw).
    public var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
}
