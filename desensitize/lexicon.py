"""Word lists shared by the recognizers, the vectorised rules and the synthetic generator."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SINGLE_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章"
    "鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉"
    "骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄"
    "丛仲虞敖巩明佘池查麻苑迟邝"
)
DOUBLE_SURNAMES = _words(
    "欧阳 司马 上官 诸葛 东方 皇甫 令狐 慕容 尉迟 公孙 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫"
    " 西门 呼延"
)

# Words that come right before a name ("市民王小明", "经李四核实").
NAME_TRIGGERS = _words(
    "市民 居民 村民 来电人 投诉人 举报人 联系人 申请人 当事人 业主 租户 房东 患者 家属 户主 姓名"
    " 名字 承办人"
    " 经办人 负责人 法人 法定代表人 代表人 客户 用户 我叫 名叫 本人 驾驶员 司机 收件人 寄件人"
    " 乘客 学生 老人"
    " 儿子 女儿 丈夫 妻子 父亲 母亲 同事 邻居 员工 职工 网格员 民警 医生 护士 老师 经 由 与 和 及"
    " 被 给 向 让"
    " 请 叫 找 是 为 对 同 跟 将 把 等 致 称 ："
    # titles and kin, verbs that take a person, and time words that open a sentence
    " 经理 主任 局长 科长 处长 所长 队长 组长 站长 院长 校长 厂长 董事长 总经理 书记 保安 保洁员"
    " 工作人员 记者 律师 法官 家长 孩子 朋友 爷爷 奶奶 外公 外婆 爸爸 妈妈 哥哥 姐姐 弟弟 妹妹"
    " 老公 老婆 告诉 通知 联系 看望 陪同 带领 委托 据 替 帮 问 今天 昨天 前天 当天 上午 下午"
    " 晚上 随后 后来 但是 因为 所以"
)
# What may follow a name ("王小明反映", "李四先生", "张三，").
NAME_STOPS = _words(
    "先生 女士 小姐 同志 老师 师傅 医生 警官 阿姨 大爷 大妈 经理 主任 书记 同学 老人 反映 来电"
    " 投诉 举报 称"
    " 说 表示 核实 签收 办理 签字 报警 致电 家属 本人 夫妇 一家 身份证 证件 电话 手机 联系 住"
    " 居住 现住 户籍"
    " 系 的 和 与 及 、 ， 。 ； ： （ ） 等 于 在 已 要求 诉求"
    # what a person does next ("张三去了", "李四同意", "王五今年")
    " 去 来 到 也 都 又 还 没 因 曾 向 对 给 让 把 被 跟 同意 拒绝 认为 觉得 发现 负责 担任 参加"
    " 需要 现居 打电话 今天 昨天 今年 去年 上午 下午 晚上 已经 经常 一起 两人 等人"
    " 于 昨日 当晚 当天 上周 自述 前往 来到"
)

PROVINCES = _words(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南"
    " 广东 海南"
    " 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
)
# The last character of a place's name (上城区, 市心路, 湖滨街道): no given name ends with one.
PLACE_SUFFIXES = "省市区县镇乡村路街道巷弄"
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

# Common words that start with a surname character but are no names ("金额", "单元", "高速").
NOT_NAMES = _words(
    "金额 单元 高速 方向 方面 方式 方法 安全 安排 万元 文化 文件 常见 常用 和平 江边"
    " 黄金 白天 周末 周边 周年 马路 马上 石头 时间 时候 明天 明年 明确 任何 任务 于是"
    " 成本 成功 管理 车辆 车牌 车位 钱款 严重 路口 路段 路面 关于 关系 司机 师傅 平台"
    " 全部 全市 全区 全国 应当 应该 商品 商户 商家 解决 费用 程序 齐全 包括 叶片 单位"
    " 单号 单据 原因 高度 高层 毛坯 向前 向后 时段 段落 温度 温馨 康复 施工 易燃 宁可"
    " 尚未 舒适 简单 项目 连续 景区 党员 宫殿 冷气 卫生 米饭 全体 应急 和谐 沙发 荣誉"
    " 华为 余额 余下 章程 曾经 林业 田地 董事 夏天 许多 许可 韩国 彭州 谢谢 宋代 唐代"
    " 程度 苏州 魏晋 丁字 任意 卢湾 万达 钟点 陆地 江南 江北 江西 江苏 武汉 武昌 易于"
    " 齐鲁 乔迁 庄园 岳阳 包装 宁波 梅花 凌晨 成都 成员 谷物 盛大 曲线 游客 房屋 房间"
    " 房产 房东 解释 艾滋 时期 农村 农民 司法 古代 吉林 简介 车库 连接 景点 党委 宫颈"
    " 费时 冷静 席位 卫星 柏油 宗教 全面 应用 师资 和解 商量 沙漠 荣获 桑拿 郎中 丛林"
    " 虞城 明显 查询 查看 麻烦 迟到 周一 周二 周三 周四 周五 周六 周日 万一 方便 方案 高温 高峰"
    " 高中 高兴 文明 文章 安装 安静 安心 金融 石油 常住 陆续 严格 关门 时清"
    " 申请人 申报人 申诉人 付款人 经办人 经营者 相对人 车主 陈述人 代理人 代表人"
)

# Every surname of the 百家姓 (the classical list of family names), single and compound, and a
# few of today's that it lacks. The name model's answers are completed with them (a compound
# surname it cut off, a list of names, a name before a title); the context rules above keep to
# the common surnames.
_BAIJIAXING = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛"
    "奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康"
    "伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵"
    "席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗"
    "丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫"
    "乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄"
    "印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴郁胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑桂"
    "濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘"
    "匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相"
    "查后荆红游竺权逯盖益桓公"
)
# Surnames of today that the 百家姓 does not hold.
_MODERN = "仝佴揭谌檀冼禤邸遆粟佟邝"
ALL_SINGLE_SURNAMES = "".join(dict.fromkeys(SINGLE_SURNAMES + _BAIJIAXING + _MODERN))
ALL_DOUBLE_SURNAMES = DOUBLE_SURNAMES + _words(
    "万俟 司马 上官 欧阳 夏侯 诸葛 闻人 东方 赫连 皇甫 尉迟 公羊 澹台 公冶 宗政 濮阳 淳于 单于"
    " 太叔 申屠 公孙 仲孙 轩辕 令狐 钟离 宇文 长孙 慕容 鲜于 闾丘 司徒 司空 亓官 司寇 仉督 子车"
    " 颛孙 端木 巫马 公西 漆雕 乐正 壤驷 公良 拓跋 夹谷 宰父 谷梁 段干 百里 东郭 南门 呼延 归海"
    " 羊舌 微生 梁丘 左丘 东门 西门 南宫 第五 独孤 太史"
)
ALL_DOUBLE_SURNAMES = tuple(dict.fromkeys(ALL_DOUBLE_SURNAMES))
# A name is followed by one of these ("揭远医生"): with one, any surname of the 百家姓 starts a name.
TITLES = _words(
    "先生 女士 小姐 同志 老师 师傅 医生 医师 护士 警官 律师 法官 记者 会计 主任 经理 书记 队长"
    " 院长 所长 局长 科长 处长 站长 校长 厂长 老板 阿姨 大爷 大妈 同学 教授 博士"
)
# The last character of an organisation's name (市公安局, 第一中学): no list of names holds one.
ORGANISATION_SUFFIXES = "局院所部厅委会司厂校馆站处科队团社中心店行园场"
# English given names: alone ("客户Olivia反映") a capitalised word is a name only when it is one.
ENGLISH_GIVEN_NAMES = frozenset(
    _words(
        "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel"
        " Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy"
        " Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin"
        " Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry"
        " Tyler Aaron Jose Adam Henry Nathan Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold"
        " Keith Christian Roger Noah Gerald Carl Terry Sean Austin Arthur Lawrence Jesse Dylan Bryan"
        " Joe Jordan Billy Bruce Albert Willie Gabriel Logan Alan Juan Wayne Roy Ralph Randy Eugene"
        " Vincent Russell Elijah Louis Bobby Philip Johnny Tom Tony Mike Bill Bob Jim Tim Sam Ben Max"
        " Leo Oliver Harry Charlie Oscar Lucas Liam Mason Hans Klaus Pierre Jean Ivan Igor Luca Marco"
        " Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty"
        " Margaret Sandra Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah"
        " Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela"
        " Nicole Emma Samantha Katherine Christine Debra Rachel Catherine Carolyn Janet Ruth Maria"
        " Heather Diane Virginia Julie Joyce Victoria Olivia Kelly Christina Lauren Joan Evelyn Judith"
        " Megan Cheryl Andrea Hannah Martha Jacqueline Frances Gloria Ann Teresa Kathryn Sara Janice"
        " Jean Alice Madison Doris Abigail Julia Judy Grace Denise Amber Marilyn Beverly Danielle"
        " Theresa Sophia Marie Diana Brittany Natalie Isabella Charlotte Rose Alexis Kayla Lucy Sophie"
        " Chloe Mia Ella Amelia Ava Lily Zoe Nina Vera Sofia Elena Olga Natasha Yuki Kenji Hiroshi"
    )
)
