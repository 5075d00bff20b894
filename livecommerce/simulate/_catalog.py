"""Static facts of the simulated world: counties, products, buyer provinces, name parts.

Every number here is a parameter of the world and is copied into ``ground_truth.json``.
Prices and costs are integer fen. Elasticities are constant price elasticities of demand.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTIES", "PRODUCTS", "PROVINCES", "County", "Product", "Province"]


@dataclass(frozen=True)
class County:
    county_id: str
    name_zh: str
    name_en: str
    province_zh: str
    province_en: str
    lon: float
    lat: float
    shop_zh: str  # the county's Taobao shop name


@dataclass(frozen=True)
class Product:
    product_id: str
    title: str
    county_id: str
    category: str  # fruit | tea | wig | grain | meat
    unit: str  # box | jin | bag | piece
    spec: str  # 商品属性 / 规格
    unit_cost_fen: int
    list_price_fen: int
    shelf_life_days: int
    season_start_month: int  # supply season, inclusive; may wrap the year (10 -> 5)
    season_end_month: int
    elasticity: float  # constant price elasticity of live demand
    base_units: float  # expected units per 20 explain-minutes at list price, reference conditions
    shelf_units: float  # expected off-live (shelf) units per day and platform at list price


COUNTIES: tuple[County, ...] = (
    County("lixian", "礼县", "Li County", "甘肃省", "Gansu", 105.18, 34.19, "礼县苹果源产地店"),
    County("puan", "普安县", "Pu'an County", "贵州省", "Guizhou", 104.95, 25.79, "普安红茶叶旗舰店"),
    County("yijun", "宜君县", "Yijun County", "陕西省", "Shaanxi", 109.12, 35.40, "宜君发制品工厂店"),
    County("yuyang", "榆阳区", "Yuyang District", "陕西省", "Shaanxi", 109.73, 38.28, "榆阳小米农家店"),
    County("nangqian", "囊谦县", "Nangqian County", "青海省", "Qinghai", 96.48, 32.20, "囊谦牦牛牧场店"),
)

PRODUCTS: tuple[Product, ...] = (
    Product(
        "lixian-huaniu-5jin",
        "礼县花牛苹果 新鲜现摘 5斤装",
        "lixian",
        "fruit",
        "box",
        "5斤装 中果",
        2600,
        4990,
        30,
        8,
        11,
        -1.8,
        22.0,
        1.6,
    ),
    Product(
        "lixian-fuji-10jin",
        "礼县红富士苹果 冷库脆甜 10斤礼盒",
        "lixian",
        "fruit",
        "box",
        "10斤礼盒 大果",
        4300,
        7990,
        120,
        10,
        5,
        -1.7,
        18.0,
        1.4,
    ),
    Product(
        "puan-black-tea-250g",
        "普安红 古树红茶 250克罐装",
        "puan",
        "tea",
        "piece",
        "250克 罐装",
        5200,
        12800,
        540,
        1,
        12,
        -1.3,
        14.0,
        0.8,
    ),
    Product(
        "puan-white-tea-100g",
        "普安白茶 明前头采 100克",
        "puan",
        "tea",
        "piece",
        "100克 明前",
        7600,
        16800,
        540,
        1,
        12,
        -1.4,
        12.0,
        0.6,
    ),
    Product(
        "yijun-wig-clip",
        "宜君真人发 假发片 隐形无痕",
        "yijun",
        "wig",
        "piece",
        "自然黑 30厘米",
        9500,
        19900,
        3650,
        1,
        12,
        -2.5,
        16.0,
        0.9,
    ),
    Product(
        "yijun-wig-full",
        "宜君真人发 全头套假发 出口款",
        "yijun",
        "wig",
        "piece",
        "深棕 长卷发",
        21000,
        39900,
        3650,
        1,
        12,
        -2.3,
        12.0,
        0.5,
    ),
    Product(
        "yuyang-millet-5jin",
        "榆阳黄小米 新米 5斤装",
        "yuyang",
        "grain",
        "bag",
        "5斤 真空装",
        2100,
        3990,
        365,
        1,
        12,
        -1.5,
        24.0,
        2.0,
    ),
    Product(
        "yuyang-black-millet-2jin",
        "榆阳黑小米 杂粮 2斤装",
        "yuyang",
        "grain",
        "bag",
        "2斤 罐装",
        1500,
        2990,
        365,
        1,
        12,
        -1.6,
        18.0,
        1.2,
    ),
    Product(
        "nangqian-yak-jerky-250g",
        "囊谦牦牛肉干 风干手撕 250克",
        "nangqian",
        "meat",
        "bag",
        "250克 原味",
        4800,
        8900,
        180,
        1,
        12,
        -2.0,
        18.0,
        1.0,
    ),
    Product(
        "nangqian-yak-milk-powder",
        "囊谦牦牛奶粉 高原全脂 400克",
        "nangqian",
        "meat",
        "bag",
        "400克 袋装",
        5200,
        9900,
        360,
        1,
        12,
        -1.9,
        14.0,
        0.7,
    ),
)


@dataclass(frozen=True)
class Province:
    name: str  # as in addresses: 浙江省, 北京市, 广西壮族自治区
    city: str
    district: str
    weight: float  # share of buyers (relative)
    lon: float
    lat: float


PROVINCES: tuple[Province, ...] = (
    Province("北京市", "北京市", "朝阳区", 4.0, 116.40, 39.90),
    Province("天津市", "天津市", "南开区", 2.0, 117.20, 39.13),
    Province("河北省", "石家庄市", "长安区", 4.0, 114.51, 38.04),
    Province("山西省", "太原市", "小店区", 2.2, 112.55, 37.87),
    Province("内蒙古自治区", "呼和浩特市", "新城区", 1.5, 111.75, 40.84),
    Province("辽宁省", "沈阳市", "和平区", 3.0, 123.43, 41.80),
    Province("吉林省", "长春市", "朝阳区", 1.6, 125.32, 43.82),
    Province("黑龙江省", "哈尔滨市", "南岗区", 2.0, 126.53, 45.80),
    Province("上海市", "上海市", "浦东新区", 4.5, 121.47, 31.23),
    Province("江苏省", "南京市", "鼓楼区", 7.0, 118.80, 32.06),
    Province("浙江省", "杭州市", "西湖区", 7.0, 120.16, 30.27),
    Province("安徽省", "合肥市", "蜀山区", 3.5, 117.23, 31.82),
    Province("福建省", "福州市", "鼓楼区", 3.5, 119.30, 26.08),
    Province("江西省", "南昌市", "东湖区", 2.5, 115.86, 28.68),
    Province("山东省", "济南市", "历下区", 6.5, 117.12, 36.65),
    Province("河南省", "郑州市", "金水区", 5.5, 113.63, 34.75),
    Province("湖北省", "武汉市", "洪山区", 4.0, 114.31, 30.59),
    Province("湖南省", "长沙市", "岳麓区", 3.8, 112.94, 28.23),
    Province("广东省", "广州市", "天河区", 10.0, 113.26, 23.13),
    Province("广西壮族自治区", "南宁市", "青秀区", 2.5, 108.37, 22.82),
    Province("海南省", "海口市", "龙华区", 0.8, 110.20, 20.04),
    Province("重庆市", "重庆市", "渝北区", 2.6, 106.55, 29.56),
    Province("四川省", "成都市", "武侯区", 5.0, 104.07, 30.57),
    Province("贵州省", "贵阳市", "南明区", 1.8, 106.63, 26.65),
    Province("云南省", "昆明市", "五华区", 2.2, 102.83, 24.88),
    Province("西藏自治区", "拉萨市", "城关区", 0.2, 91.14, 29.65),
    Province("陕西省", "西安市", "雁塔区", 3.0, 108.94, 34.34),
    Province("甘肃省", "兰州市", "城关区", 1.4, 103.83, 36.06),
    Province("青海省", "西宁市", "城中区", 0.4, 101.78, 36.62),
    Province("宁夏回族自治区", "银川市", "兴庆区", 0.5, 106.23, 38.49),
    Province("新疆维吾尔自治区", "乌鲁木齐市", "天山区", 1.2, 87.62, 43.83),
)

#: provinces where couriers charge extra shipping (偏远地区)
REMOTE_PROVINCES: frozenset[str] = frozenset({"西藏自治区", "新疆维吾尔自治区", "青海省", "内蒙古自治区"})

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "小大阿春秋冬夏明红丽娟强军平芳燕霞勇杰涛超华玲桂兰秀英梅果麦禾田山川石林雪云"
NICK = ("果园", "山货", "老乡", "村播", "好物", "助农", "源头", "小院", "乡味", "土特产")
STREETS = ("人民路", "建设路", "解放路", "中山路", "和平街", "文化路", "新华路", "幸福路", "长江路", "朝阳街")
