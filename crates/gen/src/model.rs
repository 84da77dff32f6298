//! The site: its paths, clients, user agents and the fixed names of the
//! stack (host, socket, docroot, plugins).

use crate::rng::{Rng, Weighted};

pub const HOST: &str = "shop.example.com";
pub const SOCK: &str = "unix:/run/php/php8.2-fpm.sock";
pub const DOCROOT: &str = "/var/www/html";
pub const POOL: &str = "www";
pub const MAX_CHILDREN: u32 = 24;

/// Whether nginx hands a path to PHP-FPM, proxies it to the inventory API
/// group, or serves it from disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Php,
    Api,
    Static,
}

/// One entry of the path mix: weight, method, template, route. `{p}`,
/// `{c}`, `{b}`, `{i}`, `{n}` are filled with a product, category, post,
/// image or number.
pub struct PathSpec {
    pub weight: u32,
    pub method: &'static str,
    pub template: &'static str,
    pub route: Route,
}

const fn spec(weight: u32, method: &'static str, template: &'static str, route: Route) -> PathSpec {
    PathSpec {
        weight,
        method,
        template,
        route,
    }
}

use Route::{Api, Php, Static};

pub const HUMAN_PATHS: &[PathSpec] = &[
    spec(80, "GET", "/", Php),
    spec(140, "GET", "/product/{p}/", Php),
    spec(50, "GET", "/product-category/{c}/", Php),
    spec(50, "GET", "/shop/", Php),
    spec(20, "GET", "/shop/?orderby=price&paged={n}", Php),
    spec(40, "GET", "/cart/", Php),
    spec(20, "GET", "/checkout/", Php),
    spec(5, "POST", "/?wc-ajax=checkout", Php),
    spec(20, "GET", "/my-account/", Php),
    spec(30, "POST", "/?wc-ajax=get_refreshed_fragments", Php),
    spec(40, "POST", "/wp-admin/admin-ajax.php?action=heartbeat", Php),
    spec(20, "GET", "/wp-json/wc/store/v1/cart", Php),
    spec(8, "GET", "/wp-json/wp/v2/posts?per_page=10", Php),
    spec(30, "GET", "/blog/{b}/", Php),
    spec(10, "GET", "/wp-cron.php?doing_wp_cron=17{n}.5123", Php),
    spec(5, "GET", "/wp-admin/", Php),
    spec(15, "GET", "/api/stock?sku={p}", Api),
    spec(5, "GET", "/wp-login.php", Php),
    spec(
        80,
        "GET",
        "/wp-content/themes/storefront/style.css?ver=4.5.3",
        Static,
    ),
    spec(
        80,
        "GET",
        "/wp-includes/js/jquery/jquery.min.js?ver=3.7.1",
        Static,
    ),
    spec(
        40,
        "GET",
        "/wp-content/plugins/woocommerce/assets/js/frontend/cart-fragments.min.js?ver=8.9.1",
        Static,
    ),
    spec(100, "GET", "/wp-content/uploads/2024/05/{i}.png", Static),
    spec(
        20,
        "GET",
        "/wp-content/uploads/2024/05/{i}-300x300.jpg",
        Static,
    ),
    spec(20, "GET", "/favicon.ico", Static),
];

pub const BOT_PATHS: &[PathSpec] = &[
    spec(50, "GET", "/product/{p}/", Php),
    spec(20, "GET", "/product-category/{c}/", Php),
    spec(10, "GET", "/blog/{b}/", Php),
    spec(10, "GET", "/robots.txt", Static),
    spec(10, "GET", "/sitemap_index.xml", Php),
    spec(5, "GET", "/feed/", Php),
    spec(3, "POST", "/xmlrpc.php", Php),
    spec(2, "GET", "/wp-login.php", Php),
];

pub const PRODUCTS: &[&str] = &[
    "wireless-earbuds-pro",
    "merino-wool-beanie",
    "espresso-grinder-x2",
    "trail-running-shoes",
    "ceramic-pour-over-set",
    "linen-duvet-cover",
    "usb-c-hub-7-in-1",
    "bamboo-cutting-board",
    "organic-cotton-tee",
    "leather-card-wallet",
    "smart-led-bulb-4pack",
    "cast-iron-skillet-26cm",
];
pub const CATEGORIES: &[&str] = &["audio", "kitchen", "apparel", "home", "outdoor", "gadgets"];
pub const POSTS: &[&str] = &[
    "how-to-choose-a-grinder",
    "summer-sale-2024",
    "care-guide-merino",
    "shipping-update",
];
pub const IMAGES: &[&str] = &[
    "hero-banner",
    "earbuds-black",
    "beanie-grey",
    "grinder-front",
    "skillet-top",
    "logo-dark",
];

pub const BROWSER_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
];
pub const BOT_UAS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "python-requests/2.31.0",
];
pub const REFERERS: &[&str] = &[
    "-",
    "-",
    "https://shop.example.com/",
    "https://shop.example.com/shop/",
    "https://www.google.com/",
];

/// A client: its address and the user agent it always sends.
pub struct Client {
    pub ip: Vec<u8>,
    pub ua: &'static str,
    pub bot: bool,
}

/// A fixed population of clients: about a fifth IPv6, one in twenty bots.
pub fn clients(rng: &mut Rng, n: usize) -> Vec<Client> {
    (0..n)
        .map(|_| {
            let bot = rng.chance(0.05);
            let ip = if rng.chance(0.2) {
                let mut s = String::from("2a02:");
                for i in 0..4 {
                    if i > 0 {
                        s.push(':');
                    }
                    s.push_str(&format!("{:x}", rng.below(0x10000)));
                }
                s.push_str("::");
                s.push_str(&format!("{:x}", rng.range(1, 0xffff)));
                s
            } else {
                format!(
                    "{}.{}.{}.{}",
                    rng.range(11, 223),
                    rng.below(256),
                    rng.below(256),
                    rng.range(1, 254)
                )
            };
            let ua = if bot {
                *rng.pick(BOT_UAS)
            } else {
                *rng.pick(BROWSER_UAS)
            };
            Client {
                ip: ip.into_bytes(),
                ua,
                bot,
            }
        })
        .collect()
}

pub fn weights(specs: &[PathSpec]) -> Weighted {
    Weighted::new(specs.iter().map(|s| s.weight))
}

/// Writes `template` with its placeholders filled.
pub fn fill(out: &mut Vec<u8>, template: &str, rng: &mut Rng) {
    let t = template.as_bytes();
    let mut i = 0;
    while i < t.len() {
        if t[i] == b'{' && i + 2 < t.len() && t[i + 2] == b'}' {
            match t[i + 1] {
                b'p' => out.extend_from_slice(rng.pick(PRODUCTS).as_bytes()),
                b'c' => out.extend_from_slice(rng.pick(CATEGORIES).as_bytes()),
                b'b' => out.extend_from_slice(rng.pick(POSTS).as_bytes()),
                b'i' => out.extend_from_slice(rng.pick(IMAGES).as_bytes()),
                _ => crate::num::u64(out, rng.range(1, 40)),
            }
            i += 3;
        } else {
            out.push(t[i]);
            i += 1;
        }
    }
}
