import Foundation
import Hummingbird

/// The web console: three static files, read once from the module's resources and served at
/// `/`, `/console.js` and `/console.css`. The console itself talks only to `/api`.
enum ConsoleFiles {
    static let files: [String: (contentType: String, bytes: ByteBuffer)] = {
        var files: [String: (String, ByteBuffer)] = [:]
        let types = [
            "index.html": "text/html; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
            "console.css": "text/css; charset=utf-8",
        ]
        for (name, type) in types {
            let base = (name as NSString).deletingPathExtension
            let ext = (name as NSString).pathExtension
            guard let url = Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "Console"),
                let data = try? Data(contentsOf: url)
            else { continue }
            files[name] = (type, ByteBuffer(bytes: data))
        }
        return files
    }()

    static func addRoutes(to router: Routes) {
        for (path, name) in [
            ("/", "index.html"), ("/index.html", "index.html"), ("/console.js", "console.js"),
            ("/console.css", "console.css"),
        ] {
            router.get(path) { _, _ in
                guard let file = files[name] else { throw ManagementError.notFound }
                return Response(
                    status: .ok, headers: [.contentType: file.contentType, .cacheControl: "no-cache"],
                    body: .init(byteBuffer: file.bytes))
            }
        }
    }
}
