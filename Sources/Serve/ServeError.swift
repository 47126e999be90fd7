import Foundation

/// A request the server refuses, with the HTTP status that says why; the body is
/// `{"error": {"status": 400, "message": "..."}}`. Nothing a request sends reaches the index.
public struct ServeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    static func badRequest(_ message: String) -> ServeError { ServeError(400, message) }

    /// The request's work waited longer than the server's queue timeout behind others' work.
    static func busy(waited: Duration) -> ServeError {
        ServeError(503, "busy: the request waited over \(waited.components.seconds) s behind others (--timeout); retry later")
    }

    public var description: String { "\(status): \(message)" }

    /// The JSON body.
    public var body: Data {
        (try? JSONSerialization.data(withJSONObject: ["error": ["status": status, "message": message] as [String: Any]], options: [.sortedKeys])) ?? Data()
    }
}
