import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// `/metrics` in the Prometheus text format, on its own address (`--metrics HOST:PORT`), apart from
/// the API and its gate: what a Prometheus server scrapes.
enum MetricsEndpoint {
    /// The listener, a swift-service-lifecycle `Service`; prints `metrics on HOST:PORT` once listening.
    static func application(
        registry: PrometheusCollectorRegistry, at address: (host: String, port: Int), logger: Logger
    ) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16_384)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                FileHandle.standardOutput.write(Data("metrics on \(address.host):\(port)\n".utf8))
            },
            logger: logger)
    }
}
