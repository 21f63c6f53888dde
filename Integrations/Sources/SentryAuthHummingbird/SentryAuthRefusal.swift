public import HTTPTypes
public import Hummingbird
import NIOCore
public import SentryAuth

/// A refusal of the gate as Hummingbird's own errors are: an `HTTPResponseError` that
/// ``SentryAuthMiddleware`` throws and the router answers with the refusal's status, headers and
/// JSON body, so error-handling middleware before the gate sees it like any other HTTP error.
///
/// ```swift
/// do {
///     return try await next(request, context)
/// } catch let refusal as SentryAuthRefusal {
///     context.logger.info("refused", metadata: ["code": "\(refusal.refusal.code.rawValue)"])
///     throw refusal
/// }
/// ```
public struct SentryAuthRefusal: HTTPResponseError, Sendable {
    /// The gate's refusal: code, message, reason and headers.
    public let refusal: GateDecision.Refusal

    /// Wraps a refusal.
    ///
    /// - Parameter refusal: The gate's refusal.
    public init(_ refusal: GateDecision.Refusal) {
        self.refusal = refusal
    }

    /// The refusal's HTTP status.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: refusal.status) }

    /// The response: the refusal's status, its headers (`Content-Type: application/json` first) and
    /// its JSON body.
    ///
    /// - Parameters:
    ///   - request: The refused request.
    ///   - context: Its context.
    /// - Returns: The response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = HTTPFields()
        for field in refusal.headers {
            if let name = HTTPField.Name.known(field.name) {
                fields.append(HTTPField(name: name, value: field.value))
            }
        }
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: refusal.body)))
    }
}
