//! What a browser gets instead of raw XML: the XSLT stylesheet that RSS and Atom feeds
//! name in an `xml-stylesheet` processing instruction, and the favicon.
//!
//! Feed readers ignore the instruction; browsers that still run XSLT render the feed
//! as a page that says what it is and how to subscribe. The reference is relative
//! (`feed.xsl`, beside the feeds), since browsers apply only same-origin stylesheets
//! and the same bytes are served and exported to any host.

use super::STYLESHEET_FILE;

/// Inserts the `xml-stylesheet` instruction after the XML declaration of a feed.
pub(super) fn declare(feed: String) -> String {
    let instruction = format!("<?xml-stylesheet type=\"text/xsl\" href=\"{STYLESHEET_FILE}\"?>\n");
    match feed.split_once('\n') {
        Some((declaration, rest)) if declaration.starts_with("<?xml ") => {
            format!("{declaration}\n{instruction}{rest}")
        }
        _ => format!("{instruction}{feed}"),
    }
}

/// RSS 2.0 and Atom 1.0 as an HTML page: title, how to subscribe (in the feed's
/// language when it is French, Russian or Kazakh, else English), the items.
pub const STYLESHEET: &str = r##"<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="declared" select="substring(/rss/channel/language | /atom:feed/@xml:lang, 1, 2)"/>
  <!-- The page speaks the feed's language when it is one of ours, else English. -->
  <xsl:variable name="lang">
    <xsl:choose>
      <xsl:when test="$declared = 'fr' or $declared = 'ru' or $declared = 'kk'"><xsl:value-of select="$declared"/></xsl:when>
      <xsl:otherwise>en</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:template match="/">
    <html lang="{$lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/></title>
        <style>
          body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;color:#1d1d1f;background:#fff}
          a{color:#0b57d0}.howto{background:#eef3fd;border-radius:.5rem;padding:.75rem 1rem}
          code{word-break:break-all;background:#fff;padding:.1rem .3rem;border-radius:.25rem}
          li{margin:.75rem 0}.meta{color:#555;font-size:.875rem}
          @media (prefers-color-scheme:dark){body{color:#eee;background:#111}a{color:#8ab4f8}
          .howto{background:#1c2533}code{background:#000}.meta{color:#aaa}}
        </style>
      </head>
      <body>
        <header>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="/rss/channel/description | /atom:feed/atom:subtitle"/></p>
        </header>
        <main>
          <section class="howto">
            <xsl:choose>
              <xsl:when test="$lang = 'fr'">
                <h2>Ceci est un flux d’actualités</h2>
                <p>Abonnez-vous pour recevoir les nouveaux articles dans votre lecteur de flux
                  (NetNewsWire, Feedly, Thunderbird, Inoreader…) dès leur publication : copiez
                  cette adresse et ajoutez-la dans votre lecteur.</p>
              </xsl:when>
              <xsl:when test="$lang = 'ru'">
                <h2>Это лента новостей</h2>
                <p>Подпишитесь, чтобы получать новые материалы в программе для чтения лент
                  (NetNewsWire, Feedly, Thunderbird, Inoreader и другие) сразу после публикации:
                  скопируйте этот адрес и добавьте его в программу.</p>
              </xsl:when>
              <xsl:when test="$lang = 'kk'">
                <h2>Бұл жаңалықтар арнасы</h2>
                <p>Жаңа материалдарды жарияланған сәтте арна оқу бағдарламасында (NetNewsWire,
                  Feedly, Thunderbird, Inoreader т.б.) алу үшін жазылыңыз: осы мекенжайды
                  көшіріп, бағдарламаңызға қосыңыз.</p>
              </xsl:when>
              <xsl:otherwise>
                <h2>This is a news feed</h2>
                <p>Subscribe to get new stories in your feed reader (NetNewsWire, Feedly,
                  Thunderbird, Inoreader and many more) as soon as they are published: copy this
                  address and add it in your reader.</p>
              </xsl:otherwise>
            </xsl:choose>
            <p><code><xsl:value-of select="$self"/></code></p>
            <p><a href="{$home}">
              <xsl:choose>
                <xsl:when test="$lang = 'fr'">Retour au site</xsl:when>
                <xsl:when test="$lang = 'ru'">Вернуться на сайт</xsl:when>
                <xsl:when test="$lang = 'kk'">Сайтқа оралу</xsl:when>
                <xsl:otherwise>Back to the website</xsl:otherwise>
              </xsl:choose>
            </a></p>
          </section>
          <ol>
            <xsl:for-each select="/rss/channel/item">
              <li>
                <a href="{link}"><xsl:value-of select="title"/></a><br/>
                <span class="meta"><xsl:value-of select="source"/> · <xsl:value-of select="pubDate"/></span>
              </li>
            </xsl:for-each>
            <xsl:for-each select="/atom:feed/atom:entry">
              <li>
                <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a><br/>
                <span class="meta"><xsl:value-of select="atom:source/atom:title"/> · <xsl:value-of select="substring(atom:published, 1, 10)"/></span>
              </li>
            </xsl:for-each>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
"##;

/// A 16×16 icon, as an ICO file holding one 32-bit bitmap: a blue tile with a white
/// bar, drawn here so that no binary asset is needed.
pub fn favicon() -> Vec<u8> {
    const SIZE: u32 = 16;
    let pixels = (SIZE * SIZE * 4) as usize;
    let mask = (SIZE * 4) as usize; // one bit per pixel, rows padded to 32 bits
    let image = 40 + pixels + mask;
    let mut ico = Vec::with_capacity(6 + 16 + image);
    // ICONDIR: reserved, type 1 (icon), one image.
    ico.extend([0, 0, 1, 0, 1, 0]);
    // ICONDIRENTRY: 16×16, no palette, 1 plane, 32 bpp, size, offset 22.
    ico.extend([16, 16, 0, 0, 1, 0, 32, 0]);
    ico.extend((image as u32).to_le_bytes());
    ico.extend(22u32.to_le_bytes());
    // BITMAPINFOHEADER; the height counts the mask too, hence twice the size.
    ico.extend(40u32.to_le_bytes());
    ico.extend(SIZE.to_le_bytes());
    ico.extend((SIZE * 2).to_le_bytes());
    ico.extend(1u16.to_le_bytes());
    ico.extend(32u16.to_le_bytes());
    ico.extend([0u8; 24]);
    // Rows bottom-up, BGRA.
    for row in 0..SIZE {
        for column in 0..SIZE {
            let bar = (7..=8).contains(&row) && (3..13).contains(&column);
            let pixel: [u8; 4] = if bar {
                [255, 255, 255, 255]
            } else {
                [0xd0, 0x57, 0x0b, 255]
            };
            ico.extend(pixel);
        }
    }
    ico.extend(std::iter::repeat_n(0u8, mask));
    ico
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instruction_follows_the_declaration() {
        let feed = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss/>\n".to_string();
        assert_eq!(
            declare(feed),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>\n<rss/>\n"
        );
    }

    #[test]
    fn the_favicon_is_one_16_pixel_icon() {
        let ico = favicon();
        assert_eq!(&ico[..6], &[0, 0, 1, 0, 1, 0]);
        let size = u32::from_le_bytes(ico[14..18].try_into().unwrap()) as usize;
        assert_eq!(ico.len(), 22 + size);
    }
}
