/// Exponential backoff for retrying calls to the API server: `initial`, doubling up to `cap`, and
/// back to `initial` after a success. The one retry schedule of informers and the webhook's
/// certificate loops (see docs/reliability.md).
public struct RetryBackoff: Sendable {
    /// The first wait, and the wait after a reset.
    public let initial: Duration
    /// The longest wait.
    public let cap: Duration
    private var current: Duration?

    /// A backoff starting at `initial` (200 ms by default) and doubling up to `cap` (a cap below
    /// `initial` makes every wait `cap`).
    public init(initial: Duration = .milliseconds(200), cap: Duration) {
        self.initial = initial
        self.cap = cap
    }

    /// The next wait.
    public mutating func next() -> Duration {
        let wait = min(current.map { $0 * 2 } ?? initial, cap)
        current = wait
        return wait
    }

    /// Starts over after a success.
    public mutating func reset() { current = nil }
}
