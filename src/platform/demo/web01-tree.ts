import { demoTime, prose } from './demo-text.js';
import type { GuestTreeWriter } from './guest-tree-writer.js';
import { writeLinuxBaseTree } from './linux-base-tree.js';
import { SeededRandom } from './seeded-random.js';

const MIB = 1024 * 1024;

/** web01: nginx serving a small static site, with access and error logs (~30 MiB). */
export async function writeWeb01Tree(tree: GuestTreeWriter): Promise<void> {
  await writeLinuxBaseTree(tree, 'web01', [{ name: 'alice', uid: 1000, fullName: 'Alice Weber' }]);
  const rng = new SeededRandom('web01:files');
  await tree.file('/etc/nginx/nginx.conf', NGINX_CONF);
  await tree.file('/etc/nginx/mime.types', 'types {\n    text/html html;\n    text/css css;\n    application/javascript js;\n    image/png png;\n    image/jpeg jpg;\n}\n');
  await tree.file('/etc/nginx/sites-available/default', site('default', '/var/www/html'));
  await tree.file('/etc/nginx/sites-available/shop.example.com', site('shop.example.com', '/var/www/shop'));
  await tree.symlink('/etc/nginx/sites-enabled/default', '/etc/nginx/sites-available/default');
  await tree.symlink('/etc/nginx/sites-enabled/shop.example.com', '/etc/nginx/sites-available/shop.example.com');
  await tree.dir('/etc/nginx/conf.d');

  for (const page of ['index', 'about', 'contact', 'products', 'imprint']) {
    await tree.file(`/var/www/html/${page}.html`, html(page, prose(rng, 3000)));
  }
  await tree.file('/var/www/html/css/site.css', 'body { font-family: sans-serif; margin: 0 auto; max-width: 60em; }\n'.repeat(40));
  await tree.file('/var/www/html/js/app.js', "document.addEventListener('DOMContentLoaded', () => console.log('ready'));\n".repeat(60));
  for (let i = 1; i <= 12; i++) {
    // Images are incompressible, as real JPEGs are.
    await tree.file(`/var/www/html/images/photo-${String(i).padStart(2, '0')}.jpg`, rng.bytes(rng.between(MIB / 2, 2 * MIB)));
  }
  await tree.file('/var/www/shop/index.html', html('shop', prose(rng, 1500)));
  await tree.dir('/var/www/shop/uploads');

  await tree.file('/var/log/nginx/access.log', accessLog(rng, 40000));
  await tree.file('/var/log/nginx/access.log.1', accessLog(rng, 30000));
  await tree.file('/var/log/nginx/error.log', `${demoTime(3).toISOString()} [warn] 811#811: *1 upstream response is buffered\n`);
}

const NGINX_CONF = `user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections 768;
}

http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /var/log/nginx/access.log;
    error_log /var/log/nginx/error.log;
    gzip on;
    include /etc/nginx/conf.d/*.conf;
    include /etc/nginx/sites-enabled/*;
}
`;

function site(name: string, root: string): string {
  return `server {\n    listen 80;\n    server_name ${name};\n    root ${root};\n    index index.html;\n    location / {\n        try_files $uri $uri/ =404;\n    }\n}\n`;
}

function html(title: string, body: string): string {
  const paragraphs = body.trim().split('\n\n').map((p) => `    <p>${p}</p>`).join('\n');
  return `<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <title>${title}</title>\n    <link rel="stylesheet" href="/css/site.css">\n  </head>\n  <body>\n${paragraphs}\n    <script src="/js/app.js"></script>\n  </body>\n</html>\n`;
}

function accessLog(rng: SeededRandom, lines: number): string {
  const paths = ['/', '/about.html', '/products.html', '/css/site.css', '/js/app.js', '/images/photo-03.jpg', '/favicon.ico'];
  const agents = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'Mozilla/5.0 (Windows NT 10.0) Chrome/126.0', 'curl/8.5.0'];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const status = rng.int(50) === 0 ? 404 : 200;
    out.push(
      `10.0.${rng.int(4)}.${rng.between(2, 254)} - - [${demoTime(i, 2).toISOString()}] "GET ${rng.pick(paths)} HTTP/1.1" ${status} ${rng.between(200, 90000)} "-" "${rng.pick(agents)}"`,
    );
  }
  return out.join('\n') + '\n';
}
